"""A kiosk's payment side, to be killed with SIGKILL by tests/test_crash_cash_in.py.

Usage: python crash_payment_child.py DATA_DIR ACCEPTOR_PORT BACKEND_URL SEED [drain]

It starts as the kiosk does, without Qt (kiosk/runtime.py and
tests/test_payment_stack.py): the acceptor driver through
:class:`~kiosk.devices.KioskDevices` with the power-up listener of
:class:`~kiosk.payment_stack.PaymentStack`, then the stack itself (journal
opened, ``recover()``, sync worker, payment service).  Then it takes payments
for ever, as customers at the screen would: look the account up, open the
payment, wait until a few notes are credited (the parent inserts them into the
acceptor emulator it owns) or the customer gives up, finish it.

With ``drain`` it takes no payment: it waits until the sync worker has
posted the outbox and the acceptor holds no note (both bounded), prints
``drained`` and stops the drivers and the stack the kiosk's way.

What it prints (flushed, one line per fact, for the parent's log only; the
parent's accounting reads the journal, the emulator and the simulator)::

    ready                    the journal is recovered and the payment service is up
    open TXN WANT            a payment is open; the customer means to insert WANT notes
    credited TXN PAID_FEN    a note was journaled; the payment now holds PAID_FEN
    cash-off REASON          the journal's disk is (nearly) full: no payment is opened
    done TXN OUTCOME PAID    PaymentService.complete() returned
    drained OUTBOX SETTLED   (drain) what was left in the outbox, whether the acceptor settled
"""

from __future__ import annotations

import logging
import queue
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/: the shared start-up helper

from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.backend.seed import DEMO_ACCOUNTS  # noqa: E402
from kiosk.config import KioskConfig, default_config  # noqa: E402
from kiosk.devices import KioskDevices  # noqa: E402
from kiosk.journey_state import CashInRequest  # noqa: E402
from kiosk.payment_stack import PaymentStack  # noqa: E402
from kiosk.payments import CashUnavailable  # noqa: E402
from waiting import open_payments  # noqa: E402

# Active accounts only: a closed one is referred, which is right but posts nothing.
ACCOUNTS = tuple(DEMO_ACCOUNTS[name] for name in (
    "electricity_arrears", "electricity_paid_up", "water_arrears", "gas_arrears", "gas_paid_up"))
READY_TIMEOUT_S = 20.0
DRAIN_TIMEOUT_S = 30.0
CUSTOMER_PATIENCE_S = 1.5  # no new note for this long: the customer presses "Done"
MOST_NOTES = 3


def child_config(data_dir: str, acceptor_port: str) -> KioskConfig:
    """The embedded defaults, with this data directory and the emulator's port as the acceptor."""
    base = default_config()
    root = Path(data_dir)
    # A small free-space floor and reserve: the parent fills the disk in some lives.
    storage = replace(base.storage, data_dir=str(root), key_file=str(root / "journal.key"),
                      backup_dir=str(root / "backup"), min_free_mib=4, reserve_mib=2)
    devices = replace(base.devices, acceptor=acceptor_port, printer="none", card_reader="none")
    return replace(base, storage=storage, devices=devices)


def backend_client(config: KioskConfig, url: str) -> BackendClient:
    return BackendClient(url, terminal_id=config.terminal.id, secret=config.backend.terminal_secret,
                         connect_timeout_s=0.5, read_timeout_s=2.0, retries=1)


def say(*words: object) -> None:
    print(*words, flush=True)


def start_payments(config: KioskConfig, backend_url: str):
    """Devices first, then the stack, exactly in the kiosk's order; returns the PaymentService."""
    devices = KioskDevices(config.devices, realistic_emulators=False)
    posting_clients: list[BackendClient] = []

    def post_client() -> BackendClient:  # called on the sync worker's thread
        if not posting_clients:
            posting_clients.append(backend_client(config, backend_url))
        return posting_clients[0]

    stack = PaymentStack(config, devices, post_client)
    ready: queue.Queue = queue.Queue()
    devices.start(lambda status: None, lambda event: None, on_acceptor_event=stack.acceptor_event)
    open_payments(stack, ready.put)
    return ready.get(timeout=READY_TIMEOUT_S), stack, devices


def drain(stack, devices) -> None:
    """Let the sync worker post everything and the acceptor give up any note, then stop cleanly."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline and (stack.journal.outbox() or not devices.acceptor.settled):
        stack.sync.wake()
        time.sleep(0.05)
    say("drained", len(stack.journal.outbox()), devices.acceptor.settled)
    devices.stop()
    stack.stop()


def pay_once(service, lookup: BackendClient, config: KioskConfig, rng: random.Random) -> None:
    utility, number = rng.choice(ACCOUNTS)
    account = lookup.lookup_account(utility, number)
    request = CashInRequest(utility, account, account.arrears_fen, config.payment.cap_fen(account.arrears_fen))
    credited: queue.Queue = queue.Queue()
    want = rng.randint(1, MOST_NOTES)
    cash_in = service.open(request, lambda progress: credited.put(progress.paid_fen))
    txn = cash_in.progress.transaction_no
    say("open", txn, want)
    paid = 0
    while len(cash_in.progress.notes_fen) < want:
        try:
            now_paid = credited.get(timeout=CUSTOMER_PATIENCE_S)
        except queue.Empty:
            break  # the customer stops here
        if now_paid != paid:
            paid = now_paid
            say("credited", txn, paid)
    outcome = service.complete(cash_in)
    say("done", txn, outcome.outcome, outcome.paid_fen)


def main(data_dir: str, acceptor_port: str, backend_url: str, seed: int, mode: str = "pay") -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    config = child_config(data_dir, acceptor_port)
    service, stack, devices = start_payments(config, backend_url)
    say("ready")
    if mode == "drain":
        drain(stack, devices)
        return
    lookup = backend_client(config, backend_url)
    rng = random.Random(seed)
    while True:
        try:
            pay_once(service, lookup, config, rng)
        except CashUnavailable as refusal:  # the disk is (nearly) full: no payment is opened
            say("cash-off", refusal)
            time.sleep(0.2)
        time.sleep(rng.uniform(0.0, 0.1))  # the next customer steps up


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:6])
