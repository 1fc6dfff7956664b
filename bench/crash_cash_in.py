"""Crash injection at large N: the payment process killed with SIGKILL --runs times.

The harness is tests/test_crash_cash_in.py's (CI runs it with N = 50): the
acceptor emulator, the billing simulator and the journal's directory live in
this process; tests/crash_payment_child.py is the kiosk's payment side, killed
at random points, right after VEND VALID, while a note is being stacked, and
right after the driver resets an acceptor that lost power with a note inside;
restarted and recovered each time.  At the end a last life drains the outbox
and the books are compared (see the test module's docstring for what is proved).

    python bench/crash_cash_in.py [--runs 1000] [--seed 5] [--dir DIR]

Prints the figures, the violations (if any; exit status 1), and as its last
line one JSON object with the figures.  Goal (issue 5): no violation, no
duplicate, integrity_check ok.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_crash_cash_in import CrashHarness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="how many times the child is killed")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None,
                        help="keep the journal and the children's logs here (default: a temp dir, removed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crash-cash-in-") as scratch:
        workdir = args.dir or Path(scratch)
        with CrashHarness(workdir, args.seed) as harness:
            f = harness.run(args.runs)
    print(f"runs         : {f.runs} kills in {f.wall_s:.1f} s ({f.per_run_s:.2f} s per run)   by mode: {f.kills}")
    print(f"at the kill  : acceptor phase {f.crash_phases}   power cuts while down: {f.power_cuts}")
    print(f"notes        : {f.notes_inserted} inserted, {f.notes_stacked} stacked (emulator), "
          f"{f.notes_returned} returned")
    print(f"journal      : {f.notes_credited} credited in payments + {f.notes_in_box_unassigned} unassigned in "
          f"the box; {f.doubt_rows} doubt rows (to check at collection)")
    print(f"unaccounted  : {f.unaccounted_real + f.unaccounted_phantom} notes left past STACK-1 by a crash: "
          f"{f.unaccounted_real} never journaled, {f.unaccounted_phantom} journaled before the kill "
          f"({(f.unaccounted_real + f.unaccounted_phantom) / max(1, f.runs):.1%} of runs)")
    print(f"payments     : {f.payments_committed} with money ({f.payments_recovered} finished by recover()), "
          f"{f.payments_posted} posted, {f.payments_cancelled} cancelled; duplicates {f.duplicates}")
    print(f"amounts      : committed {f.amount_committed_fen} fen, posted {f.amount_posted_fen} fen")
    print(f"journal file : integrity {'ok' if f.integrity_ok else 'FAILED'}; "
          f"backup temporaries left by kills: {f.orphan_backup_temporaries}")
    print(f"violations   : {len(f.violations)}")
    for violation in f.violations[:20]:
        print(f"  - {violation}")
    print(f.as_json())
    return 1 if f.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
