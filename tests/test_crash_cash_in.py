"""Crash injection (issue 5, "Reliability harnesses"): the payment process is killed with
SIGKILL at random points, restarted and recovered, N times; then the money must add up.

The parent (this module) owns the physical world, which outlives every kiosk
process: the ID-003 acceptor emulator on its pty (the child's driver reopens it
by path after each restart; the acceptor keeps its state, a note included), the
billing simulator on loopback, and the data directory with the journal and its
key.  A customer (:meth:`CrashHarness._feed`) pushes a note in whenever the
acceptor is enabled and idle.  The child, tests/crash_payment_child.py, is the
kiosk's payment side without Qt, started in the kiosk's order, taking payments
in a loop.

Kill points, per life: at a random moment (start-up, recovery, a payment, its
posting...); right after the emulator sends VEND VALID for a new note (between
the note's stacking and its journaling, or between journaling and the ACK);
while a note is being stacked (after STACK-1, before VEND VALID); and, after a
simulated power cut, right after the restarted driver resets the acceptor.  In
some lives the acceptor also loses power while the kiosk is down, with the
note that was inside (``power_up_with_note``), or without one.

What is proved, after every crash and at the end:

* notes stacked (the emulator's counters: the physical truth) = notes in the
  journal's cash box (in payments, plus unassigned notes surely in the box) +
  the notes a crash left past STACK-1 that no process ever journaled;
* each such note (ID-003 cannot say its value to a controller that did not see
  its escrow) left exactly one doubt row (``cash_box().to_check``) for the
  collection count; a doubt row is *phantom* when the note was in fact
  journaled already (the kill fell between the journal write and the ACK);
* every payment with notes is posted once, for the sum of its notes; no
  transaction number is booked twice; nothing is left unfinished or queued;
* ``PRAGMA integrity_check`` and ``foreign_key_check`` are clean.

To keep "one doubt row per note" exact, a life is not killed while the note
the previous crash left past STACK-1 is still unsettled (its VEND VALID not
yet acknowledged, or its power-up not yet reset): a second crash on the very
same note may legitimately leave a second doubt row.  bench/crash_cash_in.py
runs the same harness for large N.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from drivers.id003.emulator import AcceptorEmulator, Timings
from kiosk.backend.simulator import BackendSimulator
from offline_store.journal import RETURNED_AFTER_CREDIT, MoneyJournal
from offline_store.pii import open_or_create_key

from loop_disk import SmallDisk, fill, loop_disks_possible

CHILD = Path(__file__).with_name("crash_payment_child.py")
NOTES_YUAN = (1, 5, 10, 20, 50, 100)
PAST_STACK_1 = ("stacking", "vend_valid")  # the note ends in the box, whatever the controller does now
IN_TRANSPORT = ("accepting", "escrow")  # a reset hands the note back to the customer
# Nothing in flight (a stacked note is counted already).  Not "initializing": a power-up
# with a note may still wait for its RESET there, and a second cut would lose that note.
NO_NOTE = ("idle", "stacked")
KILL_MODES = {"random": 4, "vend_valid": 4, "stacking": 2}
LIFE_LIMIT_S = 4.0  # a life whose kill point never comes is killed anyway
RANDOM_KILL_S = (0.02, 2.5)
POWER_CUT_P = 0.35
POWER_UP_RESET_KILL_P = 0.5  # after a power cut: kill as soon as the driver has reset the acceptor
QUIET_S = 0.03  # after the kill: bytes already written reach the emulator
DRAIN_TIMEOUT_S = 40.0
# A hostile billing system in some lives: it books the payment, then answers with
# something the kiosk cannot use, or refuses after booking.  The payment must
# still be posted once (the status endpoint decides), the queue never blocked.
BACKEND_FAULT_P = 0.3
# A disk that fills up during a life (where the machine can mount one): the
# journal must stop intake before it cannot record a note, and finish the payment.
DISK_FULL_P = 0.2
DISK_FULL_LEAVE_BYTES = 3 << 20  # under the child's storage.min_free_mib = 4
BACKEND_FAULTS = ("booked_then_500_final", "booked_then_malformed", "booked_then_huge_numbers",
                  "drop_after_commit", "malformed_json", "http_500")


class HarnessError(RuntimeError):
    """The harness itself could not go on (a child that died on its own, a drain that never ended)."""


@dataclass(frozen=True)
class Crash:
    """One kill, as the parent saw the physical world once the child was dead."""

    life: int
    mode: str  # what the kill waited for (",timeout" when it never came)
    alive_s: float
    phase: str  # the emulator's phase
    note_yuan: int | None  # the note inside the acceptor, if any
    journaled: bool | None  # for a note past STACK-1: already in the journal?
    power_cut: str  # "", "plain", "acceptor" or "stacker" (where the note was when power went)


@dataclass
class Figures:
    runs: int = 0
    kills: dict = field(default_factory=dict)  # mode -> count
    crash_phases: dict = field(default_factory=dict)  # emulator phase at the kill -> count
    power_cuts: dict = field(default_factory=dict)
    backend_faults: dict = field(default_factory=dict)  # fault kind -> lives it was injected in
    disk_full_lives: int = 0
    notes_inserted: int = 0
    notes_stacked: int = 0
    notes_returned: int = 0
    notes_credited: int = 0  # in payments
    notes_in_box_unassigned: int = 0
    doubt_rows: int = 0
    unaccounted_real: int = 0  # past STACK-1 at a crash, never journaled: only a doubt row says so
    unaccounted_phantom: int = 0  # journaled already, and a doubt row as well
    payments_committed: int = 0
    payments_recovered: int = 0
    payments_cancelled: int = 0
    payments_posted: int = 0
    amount_committed_fen: int = 0
    amount_posted_fen: int = 0
    duplicates: int = 0
    integrity_ok: bool = False
    orphan_backup_temporaries: int = 0
    violations: list = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def per_run_s(self) -> float:
        return self.wall_s / self.runs if self.runs else 0.0

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "per_run_s": round(self.per_run_s, 3)}, ensure_ascii=False)


class CrashHarness:
    """The physical world, a kiosk process to kill in it, and the books kept on both."""

    def __init__(self, workdir: Path, seed: int = 0, python: str = sys.executable) -> None:
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.logs = self.workdir / "lives"
        self.python = python
        self.rng = random.Random(seed)
        self.emulator = AcceptorEmulator(timings=Timings())
        self.simulator = BackendSimulator(port=0)
        self.crashes: list[Crash] = []
        self.figures = Figures()
        # Notes in the box that no journal write will ever mention (yuan -> count).
        self._unjournaled: Counter = Counter()
        self._orphans = 0  # notes a crash left past STACK-1: one doubt row each
        self._unchecked_orphans: list[Crash] = []  # ... whose doubt row has not been looked for yet
        self._doubts_seen = 0
        self._unsettled_at: int | None = None  # stacked count the last orphan has not reached yet
        self._last_note: int | None = None  # yuan of the last note pushed in (at most one is inside)
        self._feed_after: float | None = None
        self.disk: SmallDisk | None = None

    # -- the world ------------------------------------------------------------------
    def __enter__(self) -> CrashHarness:
        if loop_disks_possible():  # the data directory on a disk of its own, to fill up
            self.disk = SmallDisk(self.workdir, size_mib=64)
            self.data_dir = self.disk.mount_point / "data"
        self.data_dir.mkdir(parents=True)
        self.logs.mkdir()
        # As check_journal_key() before the kiosk's window: the key exists before any start.
        open_or_create_key(self.data_dir / "journal.key", False)
        self.emulator.start()
        self.simulator.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.simulator.stop()
        self.emulator.stop()
        if self.disk is not None:
            self.disk.unmount()

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "journal.sqlite"

    def _spawn(self, life: int, *mode: str) -> tuple[subprocess.Popen, Path]:
        log = self.logs / f"life-{life:04d}.log"
        with open(log, "w") as out:
            child = subprocess.Popen(
                [self.python, str(CHILD), str(self.data_dir), self.emulator.port, self.simulator.url,
                 str(self.rng.randrange(2**31)), *mode], stdout=out, stderr=subprocess.STDOUT, text=True)
        return child, log

    def _feed(self, now: float) -> None:
        """A customer: a note in whenever the acceptor takes one, after a human pause."""
        emulator = self.emulator
        if not (emulator.accepted_yuan and emulator.pending_notes == 0 and emulator.phase == "idle"):
            self._feed_after = None
            return
        if self._feed_after is None:
            self._feed_after = now + self.rng.uniform(0.05, 0.2)
        elif now >= self._feed_after:
            self._last_note = self.rng.choice(NOTES_YUAN)
            emulator.insert_note(self._last_note)
            self.figures.notes_inserted += 1
            self._feed_after = None

    # -- one life -------------------------------------------------------------------
    def run(self, kills: int) -> Figures:
        started = time.monotonic()
        power_cut_before = ""
        for life in range(kills):
            crash = self._live_and_die(life, power_cut_before)
            power_cut_before = crash.power_cut
            self._check_books(crash)
        self._drain(kills)
        self._final_books()
        self.figures.runs = kills
        self.figures.wall_s = time.monotonic() - started
        return self.figures

    def _live_and_die(self, life: int, power_cut_before: str) -> Crash:
        rng, emulator = self.rng, self.emulator
        mode = rng.choices(list(KILL_MODES), weights=list(KILL_MODES.values()))[0]
        if power_cut_before and rng.random() < POWER_UP_RESET_KILL_P:
            mode = "power_up_reset"
        if rng.random() < BACKEND_FAULT_P:
            fault = rng.choice(BACKEND_FAULTS)
            self.simulator.inject(fault, count=1, path_prefix="/api/v1/payments")
            self.figures.backend_faults[fault] = self.figures.backend_faults.get(fault, 0) + 1
        child, log = self._spawn(life)
        born = time.monotonic()
        kill_at = born + rng.uniform(*RANDOM_KILL_S)
        fill_at = born + rng.uniform(0.05, 0.6) if self.disk and rng.random() < DISK_FULL_P else None
        filler = None
        resets = emulator.counters.commands["RESET"]
        # On VEND VALID: at once (before the child has read it), or a few ms later (journaled, not ACKed).
        late = rng.choice((0.0, rng.uniform(0.0, 0.006)))
        armed: tuple[int, int] | None = None  # VEND VALID counts once this life may be killed
        while True:
            now = time.monotonic()
            if child.poll() is not None:
                raise HarnessError(f"life {life} ended by itself ({child.returncode}):\n{_tail(log)}")
            if now - born > LIFE_LIMIT_S:
                mode += ",timeout"
                break
            if armed is None and self._may_kill():
                armed = (len(emulator.vend_valid_times), emulator.counters.vend_valid_sent)
            if armed is not None and self._kill_point(mode, now, kill_at, armed, resets):
                if mode == "vend_valid" and late:
                    time.sleep(late)
                break
            if fill_at is not None and now >= fill_at and filler is None:
                filler = fill(self.disk.mount_point, DISK_FULL_LEAVE_BYTES)
                self.figures.disk_full_lives += 1
            self._feed(now)
            time.sleep(0.0005)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if filler is not None:
            filler.unlink()  # the technician freed the disk before the next start
        alive = time.monotonic() - born
        time.sleep(QUIET_S)
        self._feed_after = None
        return self._after_death(life, mode, alive)

    def _may_kill(self) -> bool:
        """Not before the note the last crash left past STACK-1 has settled (see the module doc)."""
        if self._unsettled_at is None:
            return True
        if sum(self.emulator.counters.stacked.values()) >= self._unsettled_at:
            self._unsettled_at = None
            return True
        return False

    def _kill_point(self, mode: str, now: float, kill_at: float, armed: tuple[int, int], resets: int) -> bool:
        emulator = self.emulator
        if mode == "random":
            return now >= kill_at
        if mode == "vend_valid":  # a new note's VEND VALID is on the wire to the child
            return len(emulator.vend_valid_times) > armed[0] and emulator.counters.vend_valid_sent > armed[1]
        if mode == "stacking":
            return emulator.phase == "stacking"
        return emulator.counters.commands["RESET"] > resets  # power_up_reset

    def _after_death(self, life: int, mode: str, alive: float) -> Crash:
        """Classify the crash; then perhaps the acceptor loses power too while the kiosk is down."""
        emulator = self.emulator
        phase = emulator.phase
        inside = self._last_note if phase in PAST_STACK_1 + IN_TRANSPORT else None
        journaled = None
        if phase in PAST_STACK_1:
            journaled = self._journaled_in_flight(inside)
            if journaled is not None:
                self._orphans += 1
                self._unsettled_at = sum(emulator.counters.stacked.values()) + 1
                if journaled:
                    self.figures.unaccounted_phantom += 1
                else:
                    self._unjournaled[inside] += 1
                    self.figures.unaccounted_real += 1
        power_cut = ""
        if self.rng.random() < POWER_CUT_P:
            if inside is not None:
                power_cut = "stacker" if phase in PAST_STACK_1 else "acceptor"
                emulator.power_up_with_note(power_cut, inside)
            elif phase in NO_NOTE:
                power_cut = "plain"
                emulator.power_cycle()
        crash = Crash(life, mode, round(alive, 3), phase, inside, journaled, power_cut)
        if journaled is not None:
            self._unchecked_orphans.append(crash)
        return crash

    # -- the books -------------------------------------------------------------------
    def _journal_box(self) -> tuple[Counter, int]:
        """(notes the journal says are in the box, by yuan; doubt rows), or empty before the first write."""
        if not self.journal_path.exists():
            return Counter(), 0
        with MoneyJournal.open(self.journal_path, self.data_dir / "journal.key") as journal:
            box = journal.cash_box(since_collection=False)
            returned = [n for n in box.to_check if n.kind == RETURNED_AFTER_CREDIT]
        if returned:  # never expected here: a credited note handed back out
            self._violate(f"notes credited and then returned: {returned}")
        counts = Counter({fen // 100: count for fen, count in box.counts.items()})
        return counts, len(box.to_check)

    def _journaled_in_flight(self, yuan: int | None) -> bool | None:
        """Whether the note past STACK-1 is already journaled: the journal holds it iff it holds
        exactly that note more than the box does (every earlier note is settled by now)."""
        journal, _ = self._journal_box()
        stacked = Counter(self.emulator.counters.stacked)
        extra = journal + self._unjournaled
        extra.subtract(stacked)
        extra = +extra
        if not extra:
            return False
        if extra == Counter({yuan: 1}) and self.emulator.phase == "vend_valid":
            return True
        self._violate(f"note ¥{yuan} past STACK-1 at a crash: the journal holds {dict(extra)} more than the box")
        return None

    def _check_books(self, crash: Crash) -> None:
        self.crashes.append(crash)
        figures = self.figures
        figures.kills[crash.mode] = figures.kills.get(crash.mode, 0) + 1
        figures.crash_phases[crash.phase] = figures.crash_phases.get(crash.phase, 0) + 1
        if crash.power_cut:
            figures.power_cuts[crash.power_cut] = figures.power_cuts.get(crash.power_cut, 0) + 1
        if crash.phase in PAST_STACK_1:
            return  # settled by the next life; checked after it
        journal, doubts = self._journal_box()
        stacked = Counter(self.emulator.counters.stacked)
        if journal + self._unjournaled != stacked:
            self._violate(f"after {crash}: box {dict(stacked)} != journal {dict(journal)} "
                          f"+ never journaled {dict(self._unjournaled)}")
        self._check_doubts(doubts, f"after life {crash.life}")

    def _check_doubts(self, doubts: int, when: str) -> None:
        """Each note a crash left past STACK-1 (settled since) has its one doubt row."""
        orphans, self._unchecked_orphans = self._unchecked_orphans, []
        if doubts != self._doubts_seen + len(orphans):
            self._violate(f"{when}: {doubts - self._doubts_seen} new doubt rows for {len(orphans)} notes left "
                          f"past STACK-1 and stacked since: {orphans}")
        self._doubts_seen = doubts

    def _violate(self, message: str) -> None:
        if message not in self.figures.violations:
            self.figures.violations.append(message)

    def _drain(self, life: int) -> None:
        self.simulator.clear_faults()  # what is left of the hostile lives is not the drain's business
        child, log = self._spawn(life, "drain")
        try:
            child.wait(DRAIN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise HarnessError(f"the last life did not drain in {DRAIN_TIMEOUT_S} s:\n{_tail(log)}") from None
        if child.returncode != 0 or "drained 0 True" not in log.read_text().splitlines():
            raise HarnessError(f"the last life did not drain ({child.returncode}):\n{_tail(log)}")

    def _final_books(self) -> None:
        figures, emulator = self.figures, self.emulator
        stacked = Counter(emulator.counters.stacked)
        figures.notes_stacked = sum(stacked.values())
        figures.notes_returned = sum(emulator.counters.returned.values())
        with MoneyJournal.open(self.journal_path, self.data_dir / "journal.key") as journal:
            figures.integrity_ok = journal.integrity_ok()
            box = journal.cash_box(since_collection=False)
            payments = journal.payments_between(0, time.time() + 86400)
            unfinished, outbox = journal.unfinished(), journal.outbox()
            notes_sum = {p.transaction_no: sum(n.denomination_fen for n in journal.notes_of(p.transaction_no))
                         for p in payments}
        figures.notes_credited = sum(count for _, count in box.credited)
        figures.notes_in_box_unassigned = sum(count for _, count in box.unassigned)
        figures.doubt_rows = len(box.to_check)
        journal_yuan = Counter({fen // 100: count for fen, count in box.counts.items()})
        if journal_yuan + self._unjournaled != stacked:
            self._violate(f"at the end: box {dict(stacked)} != journal {dict(journal_yuan)} "
                          f"+ never journaled {dict(self._unjournaled)}")
        self._check_doubts(figures.doubt_rows, "after the last life")
        if figures.doubt_rows != self._orphans:
            self._violate(f"at the end: {figures.doubt_rows} doubt rows for {self._orphans} notes left past "
                          f"STACK-1 ({figures.unaccounted_real} never journaled, {figures.unaccounted_phantom} "
                          f"journaled)")
        if unfinished or outbox:
            self._violate(f"left unfinished {[p.transaction_no for p in unfinished]}, "
                          f"queued {[p.transaction_no for p in outbox]}")
        with_money = {p.transaction_no: p for p in payments if p.note_count}
        figures.payments_committed = len(with_money)
        figures.payments_recovered = sum(p.recovered for p in with_money.values())
        figures.payments_cancelled = sum(p.state == "cancelled" for p in payments)
        figures.amount_committed_fen = sum(p.paid_fen for p in with_money.values())
        for p in payments:
            if p.paid_fen != notes_sum[p.transaction_no]:
                self._violate(f"{p.transaction_no}: paid {p.paid_fen} != its notes {notes_sum[p.transaction_no]}")
            if p.note_count and p.state != "posted":
                self._violate(f"{p.transaction_no} holds notes but is {p.state}")
            if not p.note_count and p.state != "cancelled":
                self._violate(f"{p.transaction_no} holds no note but is {p.state}")
        postings = self.simulator.postings
        booked = Counter(p["transaction_no"] for p in postings)
        figures.payments_posted = len(booked)
        figures.duplicates = sum(count - 1 for count in booked.values())
        figures.amount_posted_fen = sum(p["amount_fen"] for p in postings)
        posted = {p["transaction_no"]: p["amount_fen"] for p in postings}
        committed = {txn: p.paid_fen for txn, p in with_money.items()}
        if posted != committed:
            self._violate(f"posted {posted} != committed {committed}")
        if figures.duplicates:
            self._violate(f"booked twice: {[txn for txn, count in booked.items() if count > 1]}")
        if not figures.integrity_ok:
            self._violate("the journal fails integrity_check or foreign_key_check")
        figures.orphan_backup_temporaries = len(list((self.data_dir / "backup").glob(".*.tmp")))


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def run_harness(kills: int, seed: int, workdir: Path) -> tuple[Figures, list[Crash]]:
    with CrashHarness(workdir, seed) as harness:
        return harness.run(kills), harness.crashes


# ------------------------------------------------------------------------------- the test

KILLS = 50


def test_payments_killed_fifty_times_at_random_points_lose_no_note_and_post_each_payment_once(tmp_path):
    figures, crashes = run_harness(KILLS, seed=int(os.environ.get("CRASH_SEED", "5")), workdir=tmp_path)
    print(figures.as_json())  # shown with a failure; the children's logs are under tmp_path/lives

    assert figures.violations == [], "\n".join(figures.violations)
    assert figures.runs == KILLS and len(crashes) == KILLS
    # The harness did reach the windows it is about.
    assert figures.kills.get("vend_valid", 0) >= 5 and figures.crash_phases.get("vend_valid", 0) >= 3
    assert figures.notes_stacked > 0 and figures.payments_posted > 0
    assert sum(figures.backend_faults.values()) >= 5  # the hostile billing system did play
    assert figures.disk_full_lives >= 1 or not loop_disks_possible()  # and so did a full disk
    assert figures.notes_stacked == figures.notes_credited + figures.notes_in_box_unassigned + \
        figures.unaccounted_real
    assert figures.amount_posted_fen == figures.amount_committed_fen
    assert figures.duplicates == 0
    assert figures.integrity_ok
