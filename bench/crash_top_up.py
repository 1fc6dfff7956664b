"""Crash injection at large N for card top-ups: the top-up process killed with SIGKILL --runs times.

The harness is tests/test_crash_top_up.py's (CI runs it with a small N): the acceptor
emulator, the billing simulator, pcscd with the vpcd reader and the virtual card, the meter and
the journal's directory live in this process; tests/crash_top_up_child.py is the kiosk's top-up
side, killed at random points and at each step boundary (after the commit, after the token
arrives, in the middle of the card write, after the write before the read-back, during the
confirmation); restarted and recovered each time.  A last life drains; then the books are
compared (see the test module's docstring for what is proved).

    python bench/crash_top_up.py [--runs 500] [--seed 7] [--dir DIR]

Prints the figures, the violations (if any; exit status 1), and as its last line one JSON
object with the figures.  Needs pcscd and vsmartcard-vpcd (exit status 2 without them).
Goal: no violation, every purchase paid booked once, the card's count risen once per purchase
written, the meter's total the sum of the purchases written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_crash_top_up import pcscd_problem, run_harness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="how many times the child is killed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None,
                        help="keep the journal and the children's logs here (default: a temp dir, removed)")
    args = parser.parse_args()
    problem = pcscd_problem()
    if problem:
        print(f"cannot run: {problem}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="crash-top-up-") as scratch:
        workdir = args.dir or Path(scratch)
        f = run_harness(args.runs, args.seed, workdir)
    print(f"runs         : {f.runs} kills in {f.wall_s:.1f} s ({f.per_run_s:.2f} s per run)   by mode: {f.kills}")
    print(f"faults       : billing {f.backend_faults}; cards pulled during the write {f.pulls}; held writes "
          f"taken after the kill {f.held_writes_taken}, dropped {f.held_writes_dropped}")
    print(f"purchases    : {f.purchases} ordered, {f.paid} with money, {f.booked} booked, {f.written} written and "
          f"confirmed ({f.rewritten} at a later insertion), {f.referred} referred, {f.cancelled} cancelled; "
          f"{f.recovered} carried forward by a restart")
    print(f"card         : its count rose {f.card_writes_taken} times; the meter loaded {f.meter_loaded_fen} fen")
    print(f"amounts      : paid in {f.amount_paid_fen} fen, booked {f.amount_booked_fen} fen; bill payments "
          f"posted {f.bill_payments_posted}")
    print(f"journal file : integrity {'ok' if f.integrity_ok else 'FAILED'}; doubt rows {f.doubt_rows}")
    print(f"violations   : {len(f.violations)}")
    for violation in f.violations[:20]:
        print(f"  - {violation}")
    print(f.as_json())
    return 1 if f.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
