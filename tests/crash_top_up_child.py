"""A kiosk's card top-up side, to be killed with SIGKILL by tests/test_crash_top_up.py.

Usage: python crash_top_up_child.py DATA_DIR ACCEPTOR_PORT CARD_READER BACKEND_URL SEED [drain]

It starts as the kiosk does, without Qt: the devices through
:class:`~kiosk.devices.KioskDevices` (the acceptor on the parent's emulator,
the card reader on pcscd's vpcd reader, where the parent's virtual card
sits), the payment stack (journal opened and recovered -- the purchases'
cash first -- its power-up listener), then the purchase outbox's worker, the
top-up service and :func:`~kiosk.top_up_recovery.recover_top_ups`.  Then it
sells top-ups for ever, as customers at the screen would: rewrite first when
the card has a purchase paid and not written, else order an amount, take the
notes the parent pushes into the acceptor, finish.

With ``drain`` it sells nothing: it rewrites what the card is owed and waits
until the purchase outbox is empty (bounded), prints ``drained OUTBOX
UNWRITTEN [REASON]`` and stops the kiosk's way.

What it prints (flushed, one line per fact, for the parent's log only; the
parent's accounting reads the journal, the card, the emulators and the
simulator)::

    ready                        the journal is recovered and the top-up service is up
    recovered NO BEFORE AFTER    recover_top_ups() carried a purchase forward
    refused CODE                 the card cannot take a purchase now (e.g. not loaded in its meter yet)
    open NO CHOSEN               a purchase is ordered and takes cash
    done NO OUTCOME REASON       complete() or rewrite() returned
"""

from __future__ import annotations

import logging
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/: the shared start-up helper

from crash_payment_child import backend_client, say  # noqa: E402
from kiosk.config import KioskConfig, default_config  # noqa: E402
from kiosk.devices import KioskDevices  # noqa: E402
from kiosk.payment_stack import PaymentStack  # noqa: E402
from kiosk.top_up import TopUpService  # noqa: E402
from kiosk.top_up_cash import CashPaymentMethod  # noqa: E402
from kiosk.top_up_records import TopUpRefused  # noqa: E402
from kiosk.top_up_recovery import recover_top_ups  # noqa: E402
from offline_store.disk_reserve import note_guard  # noqa: E402
from offline_store.purchase_outbox import PurchaseSyncWorker  # noqa: E402

READY_TIMEOUT_S = 20.0
DRAIN_TIMEOUT_S = 40.0
CUSTOMER_PATIENCE_S = 1.2  # no new note for this long: the customer presses "Done"
CHOICES_FEN = (1000, 2000, 5000, 10000)


def child_config(data_dir: str, acceptor_port: str, card_reader: str) -> KioskConfig:
    base = default_config()
    root = Path(data_dir)
    storage = replace(base.storage, data_dir=str(root), key_file=str(root / "journal.key"),
                      backup_dir=str(root / "backup"))
    devices = replace(base.devices, acceptor=acceptor_port, printer="none", card_reader=card_reader)
    return replace(base, storage=storage, devices=devices)


def start_top_ups(config: KioskConfig, backend_url: str):
    """Devices, the payment stack, the purchase worker, the service, recovery: the kiosk's order."""
    devices = KioskDevices(config.devices, realistic_emulators=False)
    clients = [backend_client(config, backend_url) for _ in range(3)]
    stack = PaymentStack(config, devices, lambda: clients[0])
    devices.start(lambda status: None, lambda event: None, on_acceptor_event=stack.acceptor_event)
    if stack.open() is None:
        raise SystemExit("no payment service: the devices did not start")
    journal, worker_client = stack.journal, clients[1]
    sync = PurchaseSyncWorker(journal, worker_client.pay_purchase, worker_client.confirm_write,
                              worker_client.purchase_status, base_delay_s=0.05, max_delay_s=0.5).start()
    cash = CashPaymentMethod(journal, devices.acceptor, config.payment.accepted_fen, clock=time.time,
                             guard=note_guard(journal.reserve))
    service = TopUpService(config, journal, sync, clients[2], devices.card_reader, cash,
                           posting_wait_s=2.0, token_wait_s=0.6, confirm_wait_s=1.0)
    for case in recover_top_ups(service, posting_wait_s=2.0):
        say("recovered", case.purchase_no, case.state_before, case.state_after)
    return service, stack, devices, sync


def wait_for_card(service, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while service.card_reader.card is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def sell_once(service, rng: random.Random) -> None:
    if not wait_for_card(service):
        say("refused", "NO_CARD")
        return
    offer = service.offer()
    if offer.rewrite_first:
        result = service.rewrite()
        say("done", result.purchase_no, result.outcome.value, result.reason or "-")
        return
    limits = offer.limits
    chosen = max(limits.min_amount_fen, min(rng.choice(CHOICES_FEN), limits.max_amount_fen))
    session = service.open(offer, chosen, lambda progress: None)
    say("open", session.purchase_no, chosen)
    seen, last_change = 0, time.monotonic()
    while session.progress.paid_fen < chosen and time.monotonic() - last_change < CUSTOMER_PATIENCE_S:
        if session.progress.paid_fen != seen:
            seen, last_change = session.progress.paid_fen, time.monotonic()
        time.sleep(0.02)
    result = service.complete(session)
    say("done", result.purchase_no, result.outcome.value, result.reason or "-")


def drain(service, stack, devices, sync) -> None:
    """Rewrite what the card is owed, let the worker post and confirm everything, stop cleanly."""
    journal, reason = service.journal, ""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        owed = [p for p in journal.unfinished_purchases() if p.paid_not_written]
        if not owed and not journal.purchase_outbox():
            break
        if owed and wait_for_card(service, 1.0):
            try:
                result = service.rewrite()
                reason = result.reason
                say("done", result.purchase_no, result.outcome.value, reason or "-")
                if reason == "METER_BEHIND":
                    break  # the parent takes the card to its meter, then drains again
            except TopUpRefused as refused:
                say("refused", refused.code)
        sync.wake()
        time.sleep(0.1)
    owed = [p for p in journal.unfinished_purchases() if p.paid_not_written]
    say("drained", len(journal.purchase_outbox()), len(owed), reason or "-")
    sync.stop(5)
    devices.stop()
    stack.stop()


def main(data_dir: str, acceptor_port: str, card_reader: str, backend_url: str, seed: int, mode: str = "sell") -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    config = child_config(data_dir, acceptor_port, card_reader)
    service, stack, devices, sync = start_top_ups(config, backend_url)
    say("ready")
    if mode == "drain":
        drain(service, stack, devices, sync)
        return
    rng = random.Random(seed)
    while True:
        try:
            sell_once(service, rng)
        except TopUpRefused as refused:  # not loaded in the meter yet, the network down...
            say("refused", refused.code)
            time.sleep(0.2)
        time.sleep(rng.uniform(0.0, 0.1))  # the next customer steps up


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), *sys.argv[6:7])
