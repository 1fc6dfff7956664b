"""The card reader driver against the real thing: pcscd + vsmartcard's vpcd + our virtual card.

A session fixture starts ``pcscd --foreground`` with a reader configuration of
its own (vpcd's ``Virtual PCD 00 00`` on TCP 35963) and stops it at the end;
a pcscd that already runs is used as it is, and the tests that must stop or
restart it are then skipped.  Everything is skipped, with the reason, only
where pcscd cannot run: the binary, the vpcd driver or pyscard missing, or
pcscd refusing to start (e.g. not root).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import io
import tempfile
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD, CardImage
from drivers.pcsc.diag import EXIT_CARD_ERROR, EXIT_NO_CARD, EXIT_NO_READER, EXIT_OK, EXIT_SERVICE_DOWN, run_diag
from drivers.pcsc.pcsc_api import STATE_UNAWARE, PcscError, PcscSystem
from drivers.pcsc.reader import CardReaderDriver
from drivers.pcsc.virtual_card import VPCD_PORT, VirtualCard
from drivers.status import DeviceState

try:
    from card_helpers import CardError, CardInserted, CardRemoved, Recorder, wait_for_no_card_threads
except ImportError:  # tests/drivers made a package
    from .card_helpers import CardError, CardInserted, CardRemoved, Recorder, wait_for_no_card_threads

VPCD_READER = "Virtual PCD 00 00"
LOCK_FILE = Path(tempfile.gettempdir()) / "utility-kiosk-pcsc-tests.lock"
PCSCD = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
VPCD_DRIVERS = glob.glob("/usr/lib/pcsc/drivers/serial/libifdvpcd.so*") + \
    glob.glob("/usr/lib/*/pcsc/drivers/serial/libifdvpcd.so*")


class PcscDaemon:
    """A pcscd of our own, on a reader configuration of our own."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.owned = False
        self.configs = {"vpcd": workdir / "vpcd", "none": workdir / "none"}
        for folder in self.configs.values():
            folder.mkdir()
        # reader.conf format (pcsc-lite reader.conf(5)); CHANNELID is vpcd's TCP port.
        (self.configs["vpcd"] / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME   /dev/null:0x{VPCD_PORT:04X}\n"
            f"LIBPATH      {VPCD_DRIVERS[0] if VPCD_DRIVERS else ''}\n"
            f"CHANNELID    0x{VPCD_PORT:04X}\n")

    @staticmethod
    def readers() -> list[str] | None:
        """The readers the running pcscd lists, or None when none runs."""
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

    @staticmethod
    def wait_reader_empty(timeout_s: float = 2.0) -> None:
        """Until pcscd has seen the last card leave (it polls vpcd every 400 ms)."""
        try:
            context = PcscSystem().establish()
        except PcscError:
            return
        try:
            state = context.wait_change(VPCD_READER, STATE_UNAWARE, 0)
            deadline = time.monotonic() + timeout_s
            while state.present and time.monotonic() < deadline:
                state = context.wait_change(VPCD_READER, state.known, deadline - time.monotonic())
        except PcscError:
            pass
        finally:
            context.release()

    def start(self, config: str = "vpcd") -> None:
        log = open(self.workdir / "pcscd.log", "ab")
        self.process = subprocess.Popen([PCSCD, "--foreground", "--config", str(self.configs[config])],
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.owned = True
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code, self.process = self.process.returncode, None
                tail = (self.workdir / "pcscd.log").read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"pcscd exited with status {code}: {' | '.join(tail)}")
            readers = self.readers()
            if readers is not None and (config == "none" or VPCD_READER in readers):
                return
            time.sleep(0.01)
        self.stop()
        raise RuntimeError("pcscd did not list the vpcd reader within 5 s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def restart(self, config: str) -> None:
        self.stop()
        self.start(config)


@contextlib.contextmanager
def machine_lock(timeout_s: float = 180.0):
    """pcscd and vpcd's port belong to the whole machine: one test run at a time."""
    with open(LOCK_FILE, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another test run held {LOCK_FILE} for {timeout_s:g} s") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# Module scope, not session: only this module needs pcscd, and the suite that
# runs on in this process should find no daemon of ours left behind.
@pytest.fixture(scope="module")
def pcscd(tmp_path_factory):
    with machine_lock():
        yield from _pcscd(tmp_path_factory)


def _pcscd(tmp_path_factory):
    reason = None
    if PCSCD is None:
        reason = "pcscd is not installed (apt-get install pcscd)"
    elif not VPCD_DRIVERS:
        reason = "vpcd is not installed (apt-get install vsmartcard-vpcd)"
    else:
        try:
            import smartcard.scard  # noqa: F401
        except ImportError as error:
            reason = f"pyscard cannot load ({error})"
    if reason:
        print(f"\nPC/SC tests skipped: {reason}")
        pytest.skip(reason)
    daemon = PcscDaemon(tmp_path_factory.mktemp("pcscd"))
    running = daemon.readers()
    if running is not None:
        if VPCD_READER not in running:
            pytest.skip(f"a pcscd already runs here without the vpcd reader (readers: {running})")
    else:
        try:
            daemon.start()
        except (OSError, RuntimeError) as error:
            print(f"\nPC/SC tests skipped: pcscd cannot run here: {error}")
            pytest.skip(f"pcscd cannot run here: {error}")
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def own_pcscd(pcscd) -> PcscDaemon:
    if not pcscd.owned:
        pytest.skip("a pcscd was already running: not ours to stop or restart")
    return pcscd


@pytest.fixture(autouse=True)
def clean_world(request):
    """After each test: pcscd back on the vpcd reader, and no card thread left behind."""
    yield
    if "pcscd" in request.fixturenames:
        daemon = request.getfixturevalue("pcscd")
        if daemon.owned and (daemon.process is None or VPCD_READER not in (daemon.readers() or [])):
            daemon.restart("vpcd")
    assert wait_for_no_card_threads() == []


@pytest.fixture
def card(pcscd):
    card = VirtualCard()
    yield card
    card.stop()
    pcscd.wait_reader_empty()  # or the next test's driver meets this card on its way out


@pytest.fixture
def driver(pcscd):
    driver = CardReaderDriver(f"pcsc:{VPCD_READER}", poll_interval_s=0.1, apdu_timeout_s=0.5)
    yield driver
    driver.stop()


@pytest.fixture
def seen(driver, card) -> Recorder:
    recorder = Recorder(driver)
    driver.start()
    recorder.wait_online(card_present=False)
    return recorder


# ----------------------------------------------------------------- readers and cards
def test_pcscd_lists_the_virtual_reader(pcscd):
    assert VPCD_READER in PcscDaemon.readers()
    out = io.StringIO()
    assert run_diag("list", out=out) == EXIT_OK
    assert f"{VPCD_READER}\tno card" in out.getvalue().splitlines()


def test_inserting_the_card_announces_its_account_number(driver, card, seen):
    started = time.monotonic()
    card.insert(DEMO_CARD)
    event = seen.wait_event(CardInserted)
    assert time.monotonic() - started < 1.5  # pcscd polls vpcd every 400 ms
    assert event.card_info.account_no == "3201100017"
    assert event.card_info == DEMO_CARD
    assert event.atr == card_app.atr_for_serial(DEMO_CARD.serial)
    assert event.reader == VPCD_READER
    status = seen.wait_online(card_present=True)
    assert status.device_detail.reader_name == VPCD_READER


def test_removing_the_card_announces_its_removal(driver, card, seen):
    card.insert()
    seen.wait_event(CardInserted)
    card.remove()
    assert seen.wait_event(CardRemoved).reader == VPCD_READER
    seen.wait_online(card_present=False)


def test_a_mute_card_times_out_as_card_mute_and_the_reader_recovers_when_it_leaves(driver, card, seen):
    card.mute(True)
    card.insert()
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_MUTE"
    assert "did not answer APDU 00 A4 00 0C 02 3F 00 within 0.5 s" in error.detail
    seen.wait_reason(DeviceState.HARDWARE_ERROR, "CARD_MUTE")
    card.remove()  # vpcd's blocked transmit returns; the abandoned session ends
    card.mute(False)
    seen.wait_online(card_present=False)
    card.insert()
    assert seen.wait_event(CardInserted).card_info == DEMO_CARD


def test_a_card_pulled_while_it_is_read_is_card_pulled(driver, card, seen):
    card.pull_on_apdu(3)  # SELECT MF, SELECT DF01 answered; gone at the first READ BINARY
    card.insert()
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_PULLED"
    seen.wait_online(card_present=False)
    assert seen.of(CardInserted) == [] and seen.of(CardRemoved) == []


def test_a_card_pulled_during_an_exchange_fails_it_and_is_removed(driver, card, seen):
    card.insert()
    seen.wait_event(CardInserted)
    card.pull_on_apdu(2)
    result = driver.exchange([card_app.select_file(card_app.MF), card_app.select_file(card_app.DF_PREPAID),
                              card_app.read_binary(8, sfi=card_app.SFI_PURSE)])
    assert (result.ok, result.error.reason) == (False, "CARD_PULLED")
    seen.wait_event(CardRemoved)
    seen.wait_online(card_present=False)
    card.insert()
    seen.wait_event(CardInserted, count=2)


def test_a_card_without_the_application_is_card_unknown(driver, card, seen):
    card.insert(CardImage.foreign())
    error = seen.wait_event(CardError)
    assert error.reason == "CARD_UNKNOWN" and "SELECT DF DF01: card answered 6A82" in error.detail
    seen.wait_reason(DeviceState.ONLINE, "CARD_UNKNOWN")
    card.remove()
    seen.wait_online(card_present=False)


def test_apdus_through_pcscd_and_vpcd_take_well_under_a_millisecond(driver, card, seen):
    """Without TCP_QUICKACK before every recv, each APDU would cost ~40 ms (PLATFORM.md)."""
    card.insert()
    seen.wait_event(CardInserted)
    context = PcscSystem().establish()
    try:
        connected = context.connect(VPCD_READER)
        durations = []
        for _ in range(50):
            started = time.perf_counter()
            assert connected.transmit(card_app.select_file(card_app.MF)) == b"\x90\x00"
            durations.append(time.perf_counter() - started)
        connected.disconnect()
    finally:
        context.release()
    assert statistics.median(durations) < 0.005, f"median {statistics.median(durations) * 1000:.1f} ms"


def test_a_configured_reader_that_is_not_there_is_no_reader(pcscd):
    driver = CardReaderDriver("pcsc:ACS ACR39U 00 00", poll_interval_s=0.1)
    seen = Recorder(driver)
    try:
        driver.start()
        status = seen.wait_reason(DeviceState.OFFLINE, "NO_READER")
        assert "no card reader named 'ACS ACR39U 00 00'" in status.detail and VPCD_READER in status.detail
    finally:
        driver.stop()


def test_the_first_reader_is_used_when_none_is_named(pcscd, card):
    driver = CardReaderDriver("pcsc", poll_interval_s=0.1)
    seen = Recorder(driver)
    try:
        driver.start()
        card.insert()
        assert seen.wait_event(CardInserted).reader == VPCD_READER
    finally:
        driver.stop()


# ----------------------------------------------------------------- the service and the reader going away
def test_stopping_pcscd_is_pcsc_service_down_and_its_return_recovers(own_pcscd, driver, card, seen):
    card.insert()
    seen.wait_event(CardInserted)
    own_pcscd.stop()
    status = seen.wait_reason(DeviceState.OFFLINE, "PCSC_SERVICE_DOWN")
    assert "0x8010001D" in status.detail or "0x80100013" in status.detail
    assert not status.device_detail.reader_present
    seen.wait_event(CardRemoved)
    out = io.StringIO()
    assert run_diag("list", out=out) == EXIT_SERVICE_DOWN
    assert run_diag("read", VPCD_READER, 1.0, out) == EXIT_SERVICE_DOWN
    assert out.getvalue().count("PC/SC service not running") == 2
    own_pcscd.start()
    seen.wait_event(CardInserted, count=2)  # the virtual card reconnects by itself
    seen.wait_online(card_present=True)


def test_a_driver_started_before_pcscd_comes_online_with_it(own_pcscd, driver, card):
    own_pcscd.stop()
    seen = Recorder(driver)
    driver.start()
    seen.wait_reason(DeviceState.OFFLINE, "PCSC_SERVICE_DOWN")
    card.insert()
    own_pcscd.start()
    seen.wait_event(CardInserted)


def test_a_reader_gone_from_pcscd_is_reader_unplugged_until_it_is_back(own_pcscd, driver, card, seen):
    # vpcd's reader cannot be unplugged while pcscd runs (reader.conf readers
    # are fixed), so pcscd comes back without it — as after a reader's USB
    # cable was pulled.
    own_pcscd.restart("none")
    status = seen.wait_reason(DeviceState.OFFLINE, "READER_UNPLUGGED")
    assert f"card reader {VPCD_READER} disappeared" in status.detail
    own_pcscd.restart("vpcd")
    seen.wait_online(card_present=False)
    card.insert()
    seen.wait_event(CardInserted)


# ----------------------------------------------------------------- kiosk diag card
def test_diag_read_prints_the_atr_and_account_number(pcscd, card):
    card.insert()
    out = io.StringIO()
    assert run_diag("read", VPCD_READER, 5.0, out) == EXIT_OK
    lines = out.getvalue().splitlines()
    assert "ATR:     3B 69 00 00 55 5A 4B 00 00 00 00 00 17" in lines
    assert "account: 3201100017 (electricity)" in lines


def test_diag_read_without_a_card_gives_up(pcscd):
    out = io.StringIO()
    assert run_diag("read", VPCD_READER, 0.5, out) == EXIT_NO_CARD
    assert f"card reader {VPCD_READER}: no card inserted within 0.5 s" in out.getvalue()


def test_diag_read_of_a_reader_that_is_not_there_fails_at_once(pcscd):
    out = io.StringIO()
    started = time.monotonic()
    assert run_diag("read", "No Such Reader 00 00", 10.0, out) == EXIT_NO_READER
    assert time.monotonic() - started < 2.0
    assert "no card reader named 'No Such Reader 00 00'" in out.getvalue()


# A card the kiosk does not know: a contactless storage card's ATR as PC/SC part 3 builds it
# (historical bytes 80 4F 0C A0 00 00 03 06 …), in a card without the prepaid application.
UNKNOWN_ATR = bytes.fromhex("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A")


def test_diag_read_of_an_unknown_card_prints_its_reader_and_atr(pcscd, card):
    card.insert(CardImage(UNKNOWN_ATR, None))
    out = io.StringIO()
    assert run_diag("read", VPCD_READER, 5.0, out) == EXIT_CARD_ERROR
    lines = out.getvalue().splitlines()
    assert f"reader:  {VPCD_READER}" in lines
    assert "ATR:     3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A" in lines
    assert "         protocols T=0, T=1; 15 historical bytes: 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00" in lines
    assert any("card unreadable: CARD_UNKNOWN" in line for line in lines)


def test_diag_read_of_a_card_pulled_while_it_is_read_still_prints_its_atr(pcscd, card):
    # The driver's report comes after the card left; the ATR was seen while it was in.
    out = io.StringIO()
    card.pull_on_apdu(3)  # SELECT MF, SELECT DF01 answered; gone at the first READ BINARY
    inserter = threading.Timer(0.3, card.insert, args=(DEMO_CARD,))
    inserter.start()
    try:
        assert run_diag("read", VPCD_READER, 5.0, out) == EXIT_CARD_ERROR
    finally:
        inserter.cancel()
    lines = out.getvalue().splitlines()
    assert any("card unreadable: CARD_PULLED" in line for line in lines), lines
    assert "ATR:     3B 69 00 00 55 5A 4B 00 00 00 00 00 17" in lines


def test_diag_list_prints_the_atr_of_an_unknown_card(pcscd, card):
    card.insert(CardImage(UNKNOWN_ATR, None))
    assert card.wait_connected()
    out = io.StringIO()
    deadline = time.monotonic() + 2.0  # pcscd sees the card at its next poll of vpcd (400 ms)
    while "card in" not in out.getvalue() and time.monotonic() < deadline:
        out = io.StringIO()
        assert run_diag("list", out=out) == EXIT_OK
        time.sleep(0.05)
    assert f"{VPCD_READER}\tcard in, ATR {UNKNOWN_ATR.hex(' ').upper()}" in out.getvalue().splitlines()
