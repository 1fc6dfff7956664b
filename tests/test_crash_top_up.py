"""Crash injection for card top-ups (issue "Prepaid card top-up", reliability harness): the
top-up process is killed with SIGKILL at random points and at each step boundary, restarted
and recovered, N times; then the card, the billing system and the journal must agree.

The parent (this module) owns the physical world, which outlives every kiosk process: the
ID-003 acceptor emulator on its pty, the billing simulator on loopback, pcscd with vsmartcard's
vpcd reader and our virtual card in it (personalised with the simulator's master key), the
meter at the customer's home (:class:`~drivers.pcsc.meter.PrepaidMeter`), and the data
directory.  A customer pushes a note in whenever the acceptor takes one; between two lives the
card goes home to its meter, which loads what the card carries.  The child,
tests/crash_top_up_child.py, is the kiosk's top-up side without Qt.

Kill points, one per life: at a random moment; right after a purchase's commit is on disk;
right after its write token is; in the middle of the card write (the card holds the write
command: after the kill it either takes it or leaves the reader); after the card took the write
and before the read-back (the card holds the read); during the confirmation (the billing system
slowed, the confirmation in flight).  Some lives also meet a hostile billing system (the token
refused, never issued, an answer lost after the work was done, a 500) or a customer who pulls
the card during the write and puts it back.

What is proved, after every life and at the end (after a last life drains):

* every purchase paid is booked once at the billing system, for its notes, and never as a bill
  payment; none paid is lost (booked, or referred with its money kept);
* the card took each purchase at most once (its count rises by one per purchase, each rise is
  an issued purchase's count and credit), and the meter loaded the sum of the purchases on it;
* every paid-not-written purchase the billing system booked is on its unwritten list (a rewrite
  at any kiosk); at the end none is left: each was written and confirmed;
* notes: none credited that was not stacked, none stacked that the journal does not know
  (credited, in the box, or a doubt for the collection count); integrity_check clean.

bench/crash_top_up.py runs the same harness for large N.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "drivers"))  # the pcscd world of the card tests

from contract.card_token import card_key  # noqa: E402
from drivers.id003.emulator import AcceptorEmulator, Timings  # noqa: E402
from drivers.pcsc import card_app  # noqa: E402
from drivers.pcsc.applet import DEMO_CARD, CardImage, PrepaidCardApplet  # noqa: E402
from drivers.pcsc.meter import MeterVerdict, PrepaidMeter  # noqa: E402
from drivers.pcsc.purse_command import is_purse_write  # noqa: E402
from drivers.pcsc.virtual_card import VirtualCard  # noqa: E402
from kiosk.backend.seed import DEMO_CARD_MASTER_KEY  # noqa: E402
from kiosk.backend.simulator import BackendSimulator  # noqa: E402
from offline_store.journal import MoneyJournal  # noqa: E402
from offline_store.pii import open_or_create_key  # noqa: E402
from test_card_pcsc import PCSCD, VPCD_DRIVERS, VPCD_READER, PcscDaemon, machine_lock  # noqa: E402

CHILD = Path(__file__).with_name("crash_top_up_child.py")
NOTES_YUAN = (10, 20, 50, 100)  # at least the smallest purchase: one note is always a purchase
KILL_MODES = {"random": 3, "after_commit": 2, "after_token": 2, "mid_write": 2, "after_write": 2, "confirming": 2}
LIFE_LIMIT_S = 7.0  # a life whose kill point never comes is killed anyway
RANDOM_KILL_S = (0.5, 5.0)
BACKEND_FAULT_P = 0.3
BACKEND_FAULTS = ("issue_refused", "token_never_issued", "confirm_lost", "drop_after_commit", "http_500")
PULL_P = 0.12  # the customer pulls the card during the write, and puts it back
DRAIN_TIMEOUT_S = 60.0
START_COUNT = DEMO_CARD.purchase_count


class HarnessError(RuntimeError):
    """The harness itself could not go on (a child that died on its own, a drain that never ended)."""


class HeldCard(VirtualCard):
    """The virtual card, with one more fault for the kill points: silent on the APDU right
    after it took a purse write (the read-back), so the kiosk can die between the two."""

    def __init__(self) -> None:
        super().__init__()
        self._mute_after_write = False
        self.write_arrived_at = 0  # apdus_seen when the last purse write arrived

    def mute_after_write(self) -> None:
        with self._cond:
            self._mute_after_write = True

    def disarm(self) -> None:
        """Every scripted fault off, a held APDU answered (to whoever still listens)."""
        with self._cond:
            self._mute_after_write = self._mute_on_write = False
            self._write_fault, self._pull_countdown, self._mute_countdown = None, 0, 0
        self.mute(False)

    @property
    def holding_after_write(self) -> bool:
        with self._cond:
            return self._muted and self.apdus_seen > self.write_arrived_at > 0

    def _on_arrival(self, apdu: bytes):
        action, apdu = super()._on_arrival(apdu)
        if is_purse_write(apdu):
            self.write_arrived_at = self.apdus_seen
            if self._mute_after_write:
                self._mute_countdown, self._mute_after_write = 1, False
        return action, apdu


@dataclass
class Figures:
    runs: int = 0
    kills: dict = field(default_factory=dict)  # mode -> count
    backend_faults: dict = field(default_factory=dict)
    pulls: int = 0
    held_writes_taken: int = 0  # mid-write kills after which the card took the held write
    held_writes_dropped: int = 0  # ... and after which it left the reader with it
    purchases: int = 0  # ordered (journaled)
    paid: int = 0  # with money
    booked: int = 0
    written: int = 0  # on the card and confirmed
    rewritten: int = 0  # written at a later insertion
    referred: int = 0
    cancelled: int = 0
    recovered: int = 0  # carried forward by a restart
    card_writes_taken: int = 0  # purse count rises seen on the card
    meter_loaded_fen: int = 0
    amount_paid_fen: int = 0
    amount_booked_fen: int = 0
    bill_payments_posted: int = 0
    doubt_rows: int = 0
    integrity_ok: bool = False
    violations: list = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def per_run_s(self) -> float:
        return self.wall_s / self.runs if self.runs else 0.0

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "per_run_s": round(self.per_run_s, 3)}, ensure_ascii=False)


class TopUpCrashHarness:
    """The physical world, a kiosk process to kill in it, and the books kept on all sides."""

    def __init__(self, workdir: Path, seed: int = 0, python: str = sys.executable) -> None:
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.logs = self.workdir / "lives"
        self.python = python
        self.rng = random.Random(seed)
        self.emulator = AcceptorEmulator(timings=Timings())
        self.simulator = BackendSimulator(port=0)
        self.pcscd: PcscDaemon | None = None
        self.card = HeldCard()
        self.image = CardImage.of(DEMO_CARD, purse_key=card_key(DEMO_CARD_MASTER_KEY, DEMO_CARD.serial),
                                  hoarding_limit_fen=500000)
        self.meter = PrepaidMeter(DEMO_CARD.meter_no, purchase_count=START_COUNT)
        self.purse_history: list[tuple[int, int]] = []  # (count, credit) each time the card's count rose
        self.figures = Figures()
        self._feed_after: float | None = None

    # -- the world ------------------------------------------------------------------
    def __enter__(self) -> TopUpCrashHarness:
        self.data_dir.mkdir(parents=True)
        self.logs.mkdir()
        (self.workdir / "pcscd").mkdir()
        open_or_create_key(self.data_dir / "journal.key", False)
        self.emulator.start()
        self.simulator.start()
        self.pcscd = PcscDaemon(self.workdir / "pcscd")
        if self.pcscd.readers() is None:
            self.pcscd.start()
        # The card has been in its meter since its last purchase: the write-back says so,
        # and the meter's count rule holds from the first purchase on.
        self._meter_visit()
        if not self.card.wait_connected(10):
            raise HarnessError("the virtual card did not reach vpcd")
        return self

    def __exit__(self, *_exc) -> None:
        self.card.stop()
        if self.pcscd is not None and self.pcscd.owned:
            self.pcscd.stop()
        self.simulator.stop()
        self.emulator.stop()

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "journal.sqlite"

    def _spawn(self, life: int, *mode: str) -> tuple[subprocess.Popen, Path]:
        log = self.logs / f"life-{life:04d}.log"
        with open(log, "w") as out:
            child = subprocess.Popen(
                [self.python, str(CHILD), str(self.data_dir), self.emulator.port, f"pcsc:{VPCD_READER}",
                 self.simulator.url, str(self.rng.randrange(2**31)), *mode],
                stdout=out, stderr=subprocess.STDOUT, text=True)
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
            emulator.insert_note(self.rng.choice(NOTES_YUAN))
            self._feed_after = None

    def _watch_purse(self) -> None:
        """The physical truth of the card: every rise of its purchase count, with its credit."""
        credit, count = card_app.parse_purse(bytes(self.image.files[card_app.EF_PURSE]))
        last = self.purse_history[-1][0] if self.purse_history else START_COUNT
        if count != last:
            self.purse_history.append((count, credit))
            if count != last + 1:
                self._violate(f"the card's count went from {last} to {count}: more than one purchase at once")

    # -- one life ---------------------------------------------------------------------
    def run(self, kills: int) -> Figures:
        started = time.monotonic()
        for life in range(kills):
            self._live_and_die(life)
            self._check_books(f"after life {life}")
        self._drain(kills)
        self._final_books()
        self.figures.runs = kills
        self.figures.wall_s = time.monotonic() - started
        return self.figures

    def _live_and_die(self, life: int) -> None:
        rng, figures = self.rng, self.figures
        mode = rng.choices(list(KILL_MODES), weights=list(KILL_MODES.values()))[0]
        self._arm(mode)
        newest_before = self._newest_purchase()
        child, log = self._spawn(life)
        born = time.monotonic()
        kill_at = born + rng.uniform(*RANDOM_KILL_S)
        writes_before, pulled_at = self.card.writes_seen, None
        while True:
            now = time.monotonic()
            if child.poll() is not None:
                raise HarnessError(f"life {life} ended by itself ({child.returncode}):\n{_tail(log)}")
            if now - born > LIFE_LIMIT_S:
                mode += ",timeout"
                break
            if self._kill_point(mode, now, kill_at, writes_before, newest_before):
                break
            if not self.card.inserted:  # pulled by the customer: back in after a moment
                pulled_at = pulled_at or now
                if now - pulled_at > 0.3:
                    self.card.insert(self.image)
                    pulled_at = None
            self._feed(now)
            self._watch_purse()
            time.sleep(0.0005)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        figures.kills[mode] = figures.kills.get(mode, 0) + 1
        self._after_death(mode)

    def _arm(self, mode: str) -> None:
        """Card and billing faults for this life."""
        rng, sim = self.rng, self.simulator
        if mode == "mid_write":
            self.card.mute_on_write()
        elif mode == "after_write":
            self.card.mute_after_write()
        elif mode == "confirming":  # the confirmation takes long enough to die during it
            sim.inject("delay", seconds=0.4, path_prefix="/api/v1/purchases/")
        elif rng.random() < PULL_P:
            self.card.pull_on_write(after_writing=rng.random() < 0.5)
            self.figures.pulls += 1
        if mode != "confirming" and rng.random() < BACKEND_FAULT_P:
            fault = rng.choice(BACKEND_FAULTS)
            sim.inject(fault, count=1, path_prefix="/api/v1/purchases")
            self.figures.backend_faults[fault] = self.figures.backend_faults.get(fault, 0) + 1

    def _kill_point(self, mode: str, now: float, kill_at: float, writes_before: int, newest_before: str) -> bool:
        if mode == "random":
            return now >= kill_at
        if mode == "mid_write":
            return self.card.writes_seen > writes_before  # the write command is held by the card
        if mode == "after_write":
            return self.card.holding_after_write
        state = self._newest_state(newest_before)
        wanted = {"after_commit": ("committed",), "after_token": ("issued",),
                  "confirming": ("written", "rewritten")}[mode]
        return state in wanted

    def _after_death(self, mode: str) -> None:
        """Settle what the kill left in the world, then the card goes home to its meter."""
        if mode == "mid_write":
            if self.rng.random() < 0.5:
                self.figures.held_writes_taken += 1  # the card takes the held command
            else:
                self.card.remove()  # it leaves the reader with the command unanswered
                self.figures.held_writes_dropped += 1
        self.card.disarm()
        time.sleep(0.05)
        self._watch_purse()
        self.simulator.clear_faults()
        self.simulator.issue_held_tokens()  # the key system recovers
        self._meter_visit()

    def _meter_visit(self) -> None:
        """The customer takes the card home: the meter loads what it carries (all used since)."""
        self.card.remove()
        time.sleep(0.05)
        self.meter.remaining_fen = 0
        verdict = self.meter.take_card(PrepaidCardApplet(self.image).process, datetime.now())
        if verdict is MeterVerdict.LOADED:
            self.figures.meter_loaded_fen += self.meter.remaining_fen
        elif verdict is not MeterVerdict.NOTHING_NEW:
            self._violate(f"the meter refused the card: {verdict.value}")
        self.card.insert(self.image)
        self.card.wait_connected(5)

    # -- reading the world -----------------------------------------------------------------
    def _newest_purchase(self) -> str:
        row = self._query("SELECT purchase_no FROM purchases ORDER BY rowid DESC LIMIT 1")
        return row[0] if row else ""

    def _newest_state(self, older_than: str) -> str:
        row = self._query("SELECT purchase_no, state FROM purchases ORDER BY rowid DESC LIMIT 1")
        return row[1] if row and row[0] != older_than else ""

    def _query(self, sql: str):
        if not self.journal_path.exists():
            return None
        try:
            conn = sqlite3.connect(f"{self.journal_path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
            try:
                return conn.execute(sql).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:  # not migrated yet, or busy: ask again next time
            return None

    def _violate(self, message: str) -> None:
        if message not in self.figures.violations:
            self.figures.violations.append(message)

    # -- the books --------------------------------------------------------------------------
    def _check_books(self, when: str) -> None:
        if not self.journal_path.exists():
            return
        with MoneyJournal.open(self.journal_path, self.data_dir / "journal.key") as journal:
            purchases = journal.purchases_between(0, time.time() + 86400)
            box = journal.cash_box(since_collection=False)
            notes = {p.purchase_no: sum(d * c for d, c in p.notes) for p in purchases}
        billing = {p["purchase_no"]: p for p in self.simulator.purchases}
        card_credit, card_count = card_app.parse_purse(bytes(self.image.files[card_app.EF_PURSE]))
        for p in purchases:
            held = billing.get(p.purchase_no)
            if p.paid_fen != notes[p.purchase_no]:
                self._violate(f"{when}: {p.purchase_no} paid {p.paid_fen} != its notes {notes[p.purchase_no]}")
            if p.receipt_no is not None and (held is None or held["amount_fen"] != p.paid_fen):
                self._violate(f"{when}: {p.purchase_no} booked in the journal, not so at the billing system")
            if p.paid_not_written and p.receipt_no and held["status"] not in ("paid", "issued"):
                self._violate(f"{when}: {p.purchase_no} paid-not-written, billing system has it {held['status']}")
            if p.on_card and (held is None or held["purchase_count"] > card_count):
                self._violate(f"{when}: {p.purchase_no} on the card in the journal, the card is at {card_count}")
        mine = {p.purchase_no: p for p in purchases}
        for no, held in billing.items():
            if held["amount_fen"] is not None and (no not in mine or mine[no].paid_fen != held["amount_fen"]):
                self._violate(f"{when}: {no} booked for {held['amount_fen']} with no such cash in the journal")
            if held["status"] == "written" and held["purchase_count"] > card_count:
                self._violate(f"{when}: {no} confirmed written, the card is at count {card_count}")
        self._check_card(billing, card_count, card_credit, when)
        self._check_notes(box, when)

    def _check_card(self, billing: dict, card_count: int, card_credit: int, when: str) -> None:
        """Each rise of the card's count is one issued purchase's count and credit, never twice."""
        tokens = {(p["write_token"]["purchase_count"], p["write_token"]["credit_fen"]): no
                  for no, p in billing.items() if p["write_token"]}
        taken = [tokens.get(step) for step in self.purse_history]
        if None in taken:
            self._violate(f"{when}: the card took {self.purse_history} but the tokens are {sorted(tokens)}")
        if len(set(taken)) != len(taken):
            self._violate(f"{when}: a purchase written twice: {taken}")
        if card_count != START_COUNT + len(self.purse_history):
            self._violate(f"{when}: the card is at count {card_count} after {len(self.purse_history)} writes")

    def _check_notes(self, box, when: str) -> None:
        stacked = sum(self.emulator.counters.stacked.values())
        known = sum(c for _, c in box.credited) + sum(c for _, c in box.unassigned)
        if not known <= stacked <= known + len(box.to_check):
            self._violate(f"{when}: {stacked} notes stacked, the journal credits {known} with "
                          f"{len(box.to_check)} doubts")

    def _drain(self, life: int) -> None:
        self.simulator.clear_faults()
        self.simulator.issue_held_tokens()
        for attempt in range(3):  # a rewrite may wait for the meter between two purchases
            child, log = self._spawn(life + attempt, "drain")
            try:
                child.wait(DRAIN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                raise HarnessError(f"the drain did not end in {DRAIN_TIMEOUT_S} s:\n{_tail(log)}") from None
            self._watch_purse()
            self._meter_visit()
            lines = [line for line in log.read_text().splitlines() if line.startswith("drained ")]
            if child.returncode == 0 and lines and lines[-1].startswith("drained 0 0"):
                return
        raise HarnessError(f"the last life did not drain ({child.returncode}):\n{_tail(log)}")

    def _final_books(self) -> None:
        figures = self.figures
        self._check_books("at the end")
        with MoneyJournal.open(self.journal_path, self.data_dir / "journal.key") as journal:
            figures.integrity_ok = journal.integrity_ok()
            purchases = journal.purchases_between(0, time.time() + 86400)
            figures.doubt_rows = len(journal.cash_box(since_collection=False).to_check)
            leftover = journal.unfinished_purchases(), journal.purchase_outbox()
        billing = {p["purchase_no"]: p for p in self.simulator.purchases}
        states = Counter(p.state for p in purchases)
        figures.purchases = len(purchases)
        figures.paid = sum(1 for p in purchases if p.paid_fen)
        figures.booked = sum(1 for p in billing.values() if p["amount_fen"] is not None)
        figures.written, figures.referred, figures.cancelled = (states["confirmed"], states["referred"],
                                                                 states["cancelled"])
        figures.rewritten = sum(1 for p in purchases if p.state == "confirmed" and p.write_attempts > 1)
        figures.recovered = sum(line.startswith("recovered ") for log in self.logs.iterdir()
                                for line in log.read_text(errors="replace").splitlines())
        figures.card_writes_taken = len(self.purse_history)
        figures.amount_paid_fen = sum(p.paid_fen for p in purchases)
        figures.amount_booked_fen = sum(p["amount_fen"] or 0 for p in billing.values())
        figures.bill_payments_posted = len(self.simulator.postings)
        if any(leftover):
            self._violate(f"left unfinished {[p.purchase_no for p in leftover[0]]}, queued {leftover[1]}")
        if figures.bill_payments_posted:
            self._violate(f"card purchase cash posted as bill payments: {self.simulator.postings}")
        for p in purchases:
            if p.paid_fen and p.state not in ("confirmed", "referred"):
                self._violate(f"{p.purchase_no} holds money but is {p.state}")
            if p.state == "referred" and billing.get(p.purchase_no, {}).get("amount_fen") is not None:
                self._violate(f"{p.purchase_no} referred, yet booked at the billing system")
        unwritten = [no for no, p in billing.items() if p["status"] in ("paid", "issued")]
        if unwritten:
            self._violate(f"booked and never written: {unwritten}")
        on_card = sum(p["credit_fen"] for p in billing.values() if p["status"] == "written")
        if figures.meter_loaded_fen != on_card:
            self._violate(f"the meter loaded {figures.meter_loaded_fen} fen, the purchases written are {on_card}")
        if figures.amount_booked_fen != sum(p.paid_fen for p in purchases if p.state == "confirmed"):
            self._violate("the amounts booked are not the cash of the purchases written")
        if not figures.integrity_ok:
            self._violate("the journal fails integrity_check or foreign_key_check")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def pcscd_problem() -> str:
    """Why this machine cannot run the harness ("" when it can)."""
    if PCSCD is None:
        return "pcscd is not installed (apt-get install pcscd)"
    if not VPCD_DRIVERS:
        return "vpcd is not installed (apt-get install vsmartcard-vpcd)"
    running = PcscDaemon.readers()
    if running is not None and VPCD_READER not in running:
        return f"a pcscd already runs here without the vpcd reader (readers: {running})"
    return ""


def run_harness(kills: int, seed: int, workdir: Path) -> Figures:
    with machine_lock(), TopUpCrashHarness(workdir, seed) as harness:
        return harness.run(kills)


# ------------------------------------------------------------------------------- the test

KILLS = 24


def test_top_ups_killed_at_every_step_boundary_book_each_purchase_once_and_write_it_once(tmp_path):
    problem = pcscd_problem()
    if problem:
        pytest.skip(problem)
    figures = run_harness(KILLS, seed=int(os.environ.get("CRASH_SEED", "7")), workdir=tmp_path)
    print(figures.as_json())  # shown with a failure; the children's logs are under tmp_path/lives

    assert figures.violations == [], "\n".join(figures.violations)
    assert figures.runs == KILLS
    assert figures.paid >= 5 and figures.written >= 3  # the harness did sell
    assert sum(v for k, v in figures.kills.items() if k != "random") >= 8  # and did die at the boundaries
    assert figures.card_writes_taken == figures.written  # one rise of the card's count per purchase
    assert figures.recovered >= 1 and figures.rewritten >= 1  # restarts carried purchases to a rewrite
    assert figures.amount_booked_fen <= figures.amount_paid_fen
    assert figures.bill_payments_posted == 0 and figures.integrity_ok
