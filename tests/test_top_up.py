"""A prepaid card top-up end to end, no Qt: the real billing simulator on loopback, the
acceptor emulator behind the real ID-003 driver, the in-process card reader behind the real
PC/SC driver with a card personalised with the simulator's master key, the money journal on
disk and the purchase outbox's worker.  What the customer bought is what the card carries,
the billing system knows and the journal holds -- whatever was pulled, refused or lost."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from waiting import wait_for

from contract.card_token import card_key
from contract.purchase_requests import PurchaseOrder
from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD, CardImage
from drivers.pcsc.card_app import CardInfo, CardType, Utility
from drivers.pcsc.reader import CardReaderDriver
from kiosk.backend.client import BackendClient
from kiosk.backend.seed import DEMO_CARD_MASTER_KEY, DEMO_CARDS
from kiosk.backend.simulator import BackendSimulator
from kiosk.config import default_config
from kiosk.devices import KioskDevices
from kiosk.top_up import TopUpService
from kiosk.top_up_cash import CashPaymentMethod
from kiosk.top_up_records import TopUpOutcome, TopUpRefused
from kiosk.top_up_recovery import recover_top_ups
from offline_store.journal import MoneyJournal
from offline_store.pii import PiiKey
from offline_store.purchase_outbox import PurchaseSyncWorker

SERIAL = DEMO_CARD.serial  # the simulator's electricity_card: 3 purchases, 50 yuan on it
GAS_CARD = CardInfo(Utility.GAS, "5101200029", "000051012002", CardType.PURCHASE, 0, 12, DEMO_CARDS["gas_card"])


def personalised(info: CardInfo = DEMO_CARD) -> CardImage:
    """The card as the utility issued it: its own purchase key, diversified from the simulator's master key."""
    return CardImage.of(info, purse_key=card_key(DEMO_CARD_MASTER_KEY, info.serial), hoarding_limit_fen=500000)


def on_card(image: CardImage) -> tuple[int, int]:
    """(credit, purchase count) of the purse, as the chip holds it."""
    return card_app.parse_purse(bytes(image.files[card_app.EF_PURSE]))


class World:
    """Everything a top-up touches, real parts throughout."""

    def __init__(self, tmp_path) -> None:
        base = default_config()
        self.config = replace(base, devices=replace(base.devices, acceptor="emulator", printer="none",
                                                    card_reader="none"))
        self.sim = BackendSimulator(port=0).start()
        self.journal = MoneyJournal(tmp_path / "journal.sqlite", PiiKey.create(tmp_path / "journal.key"))
        self.devices = KioskDevices(self.config.devices, realistic_emulators=False)
        self.devices.start(lambda status: None, lambda event: None)
        assert self.devices.wait_started(10)
        wait_for(lambda: self.devices.acceptor.status.state.value == "online", what="the acceptor online")
        self.reader = CardReaderDriver("emulator", poll_interval_s=0.05, apdu_timeout_s=0.3).start()
        self.card = self.reader.emulator
        self._clients = [self._client() for _ in range(2)]
        worker_client, service_client = self._clients
        self.sync = PurchaseSyncWorker(self.journal, worker_client.pay_purchase, worker_client.confirm_write,
                                       worker_client.purchase_status, base_delay_s=0.05, max_delay_s=0.2).start()
        self.slips = []
        self.service = TopUpService(
            self.config, self.journal, self.sync, service_client, self.reader,
            CashPaymentMethod(self.journal, self.devices.acceptor, self.config.payment.accepted_fen,
                              clock=time.time),
            slip_printer=lambda slip: self.slips.append(slip) or True,
            posting_wait_s=5.0, token_wait_s=1.0, confirm_wait_s=3.0)

    def _client(self) -> BackendClient:
        return BackendClient(self.sim.url, terminal_id=self.config.terminal.id,
                             secret=self.config.backend.terminal_secret, connect_timeout_s=0.5, read_timeout_s=2.0,
                             retries=1)

    def insert(self, image: CardImage) -> CardImage:
        self.card.insert(image)
        wait_for(lambda: self.reader.card is not None and self.reader.card.serial == image_serial(image),
                 what="the card read")
        return image

    def remove(self) -> None:
        self.card.remove()
        wait_for(lambda: self.reader.card is None, what="the card gone")

    def pay(self, chosen_fen: int, *notes_yuan: int):
        """Order ``chosen_fen``, feed the notes one at a time, finish; the result."""
        offer = self.service.offer()
        session = self.service.open(offer, chosen_fen, lambda progress: None)
        acceptor = self.devices.emulators.acceptor
        paid = 0
        for yuan in notes_yuan:
            acceptor.insert_note(yuan)
            paid += yuan * 100
            wait_for(lambda: session.progress.paid_fen == paid, what=f"¥{yuan} credited")
        return self.service.complete(session)

    def billing(self, purchase_no: str) -> dict:
        return next(p for p in self.sim.purchases if p["purchase_no"] == purchase_no)

    def close(self) -> None:
        self.sync.stop(5)
        self.reader.stop()
        self.devices.stop()
        for client in self._clients:
            client.close()
        self.sim.stop()
        self.journal.close()


def image_serial(image: CardImage) -> str:
    return card_app.serial_from_atr(image.atr)


@pytest.fixture
def world(tmp_path):
    made = World(tmp_path)
    yield made
    made.close()


def test_fifty_yuan_in_notes_is_written_to_the_card_read_back_and_confirmed(world):
    image = world.insert(personalised())

    result = world.pay(5000, 20, 20, 10)

    assert (result.outcome, result.reason, result.card_count) == (TopUpOutcome.WRITTEN, "", 4)
    assert on_card(image) == (5000, 4) and world.card.writes_seen == 1
    assert result.confirmed and world.billing(result.purchase_no)["status"] == "written"
    purchase = world.journal.get_purchase(result.purchase_no)
    assert (purchase.state, purchase.paid_fen, purchase.credit_fen) == ("confirmed", 5000, 5000)
    assert world.journal.cash_box().counts == {1000: 1, 2000: 2}
    assert world.journal.get(purchase.transaction_no).state == "posted"  # the cash row, booked once
    assert world.sim.postings == []  # and never as a bill payment
    assert (result.slip.outcome, result.slip.receipt_no, result.slip.card_masked) == (
        TopUpOutcome.WRITTEN, purchase.receipt_no, "************0017")
    assert result.slip_printed


@pytest.mark.parametrize("after_writing", [False, True], ids=["pulled-before-it-took-it", "pulled-after-it-took-it"])
def test_a_card_pulled_during_the_write_is_paid_not_written_and_written_once_when_it_comes_back(world, after_writing):
    image = world.insert(personalised())
    world.card.pull_on_write(after_writing=after_writing)

    result = world.pay(5000, 50)

    assert result.outcome is TopUpOutcome.NOT_WRITTEN and result.state == "write_failed"
    assert result.reason == "CARD_PULLED" and result.problem_key == "top_up.problem.card_pulled"
    assert (result.slip.outcome, result.slip.advice_key, result.slip.paid_fen) == (
        TopUpOutcome.NOT_WRITTEN, "top_up.advice.insert_card_again", 5000)
    assert world.billing(result.purchase_no)["status"] == "issued"  # listed for a rewrite at any kiosk

    world.insert(image)
    offer = world.service.offer()
    assert offer.rewrite == (result.purchase_no,) and offer.limits is None
    again = world.service.rewrite()

    assert (again.outcome, again.card_count, again.confirmed) == (TopUpOutcome.WRITTEN, 4, True)
    assert on_card(image) == (5000, 4)  # count 4, never 5: written once
    assert world.card.writes_seen == (1 if after_writing else 2)  # a card that took it is not written again
    purchase = world.journal.get_purchase(result.purchase_no)
    assert (purchase.write_outcome, purchase.write_attempts) == ("already_written" if after_writing else "written", 2)
    assert world.billing(result.purchase_no)["status"] == "written"


def test_a_different_card_is_refused_for_a_paid_not_written_purchase(world):
    world.insert(personalised())
    world.card.pull_on_write()
    failed = world.pay(5000, 50)
    assert failed.outcome is TopUpOutcome.NOT_WRITTEN

    other = world.insert(personalised(GAS_CARD))
    refused = world.service.rewrite(failed.purchase_no)

    assert (refused.outcome, refused.reason, refused.problem_key) == (
        TopUpOutcome.NOT_WRITTEN, "NOT_THIS_CARD", "top_up.problem.other_card")
    assert world.card.writes_seen == 1 and on_card(other) == (0, 12)  # the gas card untouched
    purchase = world.journal.get_purchase(failed.purchase_no)
    assert (purchase.state, purchase.write_attempts) == ("write_failed", 1)  # not even counted as a try
    assert world.service.offer().rewrite == ()  # nothing of the gas card's to write


def test_the_billing_system_refusing_the_token_refers_the_purchase_and_keeps_the_money(world):
    image = world.insert(personalised())
    world.sim.inject("issue_refused", count=1)

    result = world.pay(5000, 50)

    assert (result.outcome, result.reason, result.problem_key) == (
        TopUpOutcome.REFERRED, "ISSUE_REFUSED", "top_up.problem.referred")
    assert result.slip.advice_key == "top_up.advice.counter" and result.slip.paid_fen == 5000
    assert on_card(image) == (5000, 3) and world.card.writes_seen == 0
    purchase = world.journal.get_purchase(result.purchase_no)
    assert (purchase.state, purchase.paid_fen) == ("referred", 5000)
    assert [p.transaction_no for p in world.journal.referred()] == [purchase.transaction_no]
    assert world.journal.cash_box().counts == {5000: 1} and world.journal.purchase_outbox() == []


def test_a_token_that_does_not_come_leaves_it_paid_not_written_until_the_card_is_back(world):
    image = world.insert(personalised())
    world.sim.inject("token_never_issued", count=1)

    result = world.pay(3000, 20, 10)

    assert (result.outcome, result.reason) == (TopUpOutcome.NOT_WRITTEN, "TOKEN_NOT_ISSUED")
    assert result.receipt_no  # booked: the money is at the billing system
    world.remove()
    world.sim.issue_held_tokens()  # the key system is back
    world.insert(image)
    again = world.service.rewrite()
    assert (again.outcome, again.card_count) == (TopUpOutcome.WRITTEN, 4) and on_card(image) == (3000, 4)


def test_a_billing_system_out_of_reach_after_the_cash_leaves_it_paid_not_written_and_posted_later(world):
    image = world.insert(personalised())
    offer = world.service.offer()
    world.service.posting_wait_s = 1.0
    session = world.service.open(offer, 1000, lambda progress: None)
    world.sim.inject("drop", path_prefix="/api/v1/purchases/")  # the network goes once the order is in
    world.devices.emulators.acceptor.insert_note(10)
    wait_for(lambda: session.progress.paid_fen == 1000, what="the note credited")

    result = world.service.complete(session)

    assert (result.outcome, result.reason) == (TopUpOutcome.NOT_WRITTEN, "POSTING_PENDING")
    assert world.journal.purchase_outbox()[0].step == "payment"  # kept, posted again under its number
    world.sim.clear_faults()
    wait_for(lambda: world.journal.get_purchase(result.purchase_no).write_token is not None, what="posted later")
    again = world.service.rewrite()
    assert (again.outcome, on_card(image)) == (TopUpOutcome.WRITTEN, (1000, 4))
    assert [p["purchase_no"] for p in world.sim.purchases if p["status"] == "written"] == [result.purchase_no]


def test_a_card_the_billing_system_counts_differently_is_refused_before_any_money(world):
    world.insert(personalised(replace(DEMO_CARD, purchase_count=2)))
    with pytest.raises(TopUpRefused) as refused:
        world.service.offer()
    assert refused.value.code == "CARD_COUNT_MISMATCH"
    assert world.journal.unfinished_purchases() == []


def test_purchases_a_crash_left_behind_are_carried_forward_at_start_with_a_recovery_slip(world):
    image = world.insert(personalised())
    journal, service = world.journal, world.service
    # A purchase whose notes were stacked when the power went, before its commit.
    offer = service.offer()
    record = journal.open_purchase(world.config.terminal.id, offer.reading, 2000, min_amount_fen=1000,
                                   max_amount_fen=200000)
    journal.record_order(record.purchase_no, service.client.order_purchase(
        PurchaseOrder(record.purchase_no, world.config.terminal.id, offer.reading)))
    journal.start_purchase_cash(record.purchase_no)
    journal.record_note(record.transaction_no, 2000, "before-the-cut/1")

    assert journal.recover() == []  # the payments' recovery leaves the purchase's cash to it
    cases = recover_top_ups(service)

    (case,) = cases
    assert (case.state_before, case.state_after, case.action, case.slip_printed) == (
        "committed", "write_failed", "marked for rewrite", True)
    (slip,) = world.slips
    assert slip.recovered and slip.outcome is TopUpOutcome.NOT_WRITTEN and slip.paid_fen == 2000
    assert slip.problem_key == "top_up.problem.interrupted"
    assert on_card(image) == (5000, 3)  # nothing written without the customer
    again = service.rewrite()
    assert (again.outcome, on_card(image)) == (TopUpOutcome.WRITTEN, (2000, 4))
    assert recover_top_ups(service) == []
