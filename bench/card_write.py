"""Card top-up latency: one purchase's write token carried to the card and read back, on the vpcd path.

Each sample is one ``write_purse()`` as the top-up runs it: read the purse and
the write-back file (SELECT MF, SELECT DF01, READ BINARY SFI 2 and 5), the
purse write (``04 D6 82 00``, the card checks the MAC), and the read-back —
nine APDUs, each its own exchange through the card reader driver's worker,
pcscd, vpcd and our virtual card on loopback.  The clock runs from the call to
its result.  Goal: p95 <= 500 ms.

    python bench/card_write.py [--writes 200] [--reader vpcd|emulator]

With ``vpcd`` (the default) it uses the pcscd that runs, if it lists vpcd's
reader, or starts one of its own on a reader configuration of its own (needs
root, ``pcscd`` and ``vsmartcard-vpcd``); ``emulator`` measures the same calls
on the in-process reader, for comparison.  The last line printed is one JSON
object with the figures.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contract.card_token import PurseUpdate, WriteToken, card_key  # noqa: E402
from drivers.pcsc.applet import DEMO_CARD, CardImage  # noqa: E402
from drivers.pcsc.pcsc_api import PcscError, PcscSystem  # noqa: E402
from drivers.pcsc.purse_write import WriteOutcome, write_purse  # noqa: E402
from drivers.pcsc.reader import CardInserted, CardReaderDriver  # noqa: E402
from drivers.pcsc.virtual_card import VPCD_PORT, VirtualCard  # noqa: E402

VPCD_READER = "Virtual PCD 00 00"
MASTER = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
GOAL_MS = 500.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def readers() -> list[str] | None:
    try:
        context = PcscSystem().establish()
    except PcscError:
        return None
    try:
        return context.list_readers()
    except PcscError:
        return None
    finally:
        context.release()


def start_pcscd(workdir: Path) -> subprocess.Popen | None:
    """A pcscd of our own on vpcd's reader, or None when one already lists it; SystemExit when neither."""
    running = readers()
    if running is not None:
        if VPCD_READER in running:
            return None
        raise SystemExit(f"a pcscd runs without the vpcd reader (readers: {running}); stop it or use --reader emulator")
    pcscd = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    drivers = glob.glob("/usr/lib/pcsc/drivers/serial/libifdvpcd.so*") + \
        glob.glob("/usr/lib/*/pcsc/drivers/serial/libifdvpcd.so*")
    if pcscd is None or not drivers:
        raise SystemExit("needs pcscd and vsmartcard-vpcd (apt-get install pcscd vsmartcard-vpcd), "
                         "or --reader emulator")
    # reader.conf format (pcsc-lite reader.conf(5)); CHANNELID is vpcd's TCP port.
    (workdir / "vpcd").write_text(f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x{VPCD_PORT:04X}\n'
                                  f"LIBPATH {drivers[0]}\nCHANNELID 0x{VPCD_PORT:04X}\n")
    process = subprocess.Popen([pcscd, "--foreground", "--config", str(workdir)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while VPCD_READER not in (readers() or []):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("pcscd did not start with the vpcd reader (not root?)")
        time.sleep(0.02)
    return process


def measure(driver: CardReaderDriver, writes: int) -> list[float]:
    durations = []
    for count in range(DEMO_CARD.purchase_count + 1, DEMO_CARD.purchase_count + 1 + writes):
        token = WriteToken.issue(MASTER, PurseUpdate(DEMO_CARD.serial, f"BENCH-{count}", 100 * (count % 500), count))
        started = time.perf_counter()
        result = write_purse(driver, token)
        durations.append(time.perf_counter() - started)
        if result.outcome is not WriteOutcome.WRITTEN:
            raise SystemExit(f"write {count} was not written: {result}")
    return durations


def run(reader: str, writes: int) -> list[float]:
    image = CardImage.of(DEMO_CARD, purse_key=card_key(MASTER, DEMO_CARD.serial))
    inserted = []
    if reader == "emulator":
        driver, card = CardReaderDriver("emulator", poll_interval_s=0.3), None
        driver.subscribe_events(lambda event: isinstance(event, CardInserted) and inserted.append(event))
        driver.start()
        driver.emulator.insert(image)
    else:
        driver, card = CardReaderDriver(f"pcsc:{VPCD_READER}", poll_interval_s=0.3), VirtualCard()
        driver.subscribe_events(lambda event: isinstance(event, CardInserted) and inserted.append(event))
        driver.start()
        card.insert(image)
    try:
        deadline = time.monotonic() + 5
        while not inserted:
            if time.monotonic() > deadline:
                raise SystemExit(f"the card was not read within 5 s; reader status: {driver.status}")
            time.sleep(0.01)
        return measure(driver, writes)
    finally:
        driver.stop()
        if card is not None:
            card.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--reader", choices=("vpcd", "emulator"), default="vpcd")
    args = parser.parse_args()
    logging.getLogger("kiosk.devices").addHandler(logging.NullHandler())  # the figures are the output
    with tempfile.TemporaryDirectory(prefix="card-write-bench-") as workdir:
        pcscd = start_pcscd(Path(workdir)) if args.reader == "vpcd" else None
        try:
            durations = [d * 1000 for d in run(args.reader, args.writes)]
        finally:
            if pcscd is not None:
                pcscd.terminate()
                pcscd.wait(5)
    figures = {"reader": args.reader, "writes": len(durations), "p50_ms": round(statistics.median(durations), 2),
               "p95_ms": round(percentile(durations, 0.95), 2), "max_ms": round(max(durations), 2),
               "goal_p95_ms": GOAL_MS}
    print(f"{args.reader}: {len(durations)} token writes with read-back: p50 {figures['p50_ms']} ms, "
          f"p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms (goal p95 <= {GOAL_MS:g} ms)")
    print(json.dumps(figures))
    return 0 if figures["p95_ms"] <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
