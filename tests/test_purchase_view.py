"""The card purchases the operations page lists: a real money journal on disk, the purchases' answers
from the real billing simulator through the real client, and the real purchase outbox worker."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import operations_world as world
from contract.purchase_requests import CardReading, PurchaseOrder
from kiosk.backend.client import BackendClient
from kiosk.backend.seed import DEMO_ACCOUNTS, DEMO_CARDS
from kiosk.i18n import Translator
from kiosk.maintenance_audit import Audit
from kiosk.operations_model import OperationsModel
from kiosk.purchase_view import purchase_view, wait_purchase_sync, wake_purchase_sync
from kiosk.service_switch import ServiceSwitch
from offline_store.maintenance_store import MaintenanceStore
from offline_store.purchase_outbox import PurchaseSyncWorker
from operations_world import SECRET, TERMINAL_ID, wait_for

clock, journal, sim = world.clock, world.journal, world.sim  # fixtures
CARDS = {  # card: (its account scenario, the purchase count it carries, notes of an amount its quote allows)
    "electricity_card": ("electricity_arrears", 3, (5000,)),
    "water_card": ("water_arrears", 7, (10000, 5000, 2000)),  # its arrears are settled first: more
    "gas_card": ("gas_paid_up", 12, (2000, 1000)),
}
PURCHASES_PATH = "/api/v1/purchases"


@pytest.fixture
def client(sim) -> Iterator[BackendClient]:
    with BackendClient(sim.url, TERMINAL_ID, SECRET, connect_timeout_s=0.5, read_timeout_s=0.5, retries=0) as made:
        yield made


@pytest.fixture
def committed(journal, client, clock):
    """A purchase ordered from the billing system and paid here in cash (its posting queued),
    a minute after the one before."""

    def make(card: str = "electricity_card"):
        clock.now += 60
        account, count, notes = CARDS[card]
        utility, account_no = DEMO_ACCOUNTS[account]
        reading = CardReading(DEMO_CARDS[card], utility, account_no, purchase_count=count, credit_fen=0,
                              meter_purchase_count=count, meter_credit_fen=0)
        limits = client.quote_purchase(reading).limits
        opened = journal.open_purchase(TERMINAL_ID, reading, sum(notes), min_amount_fen=limits.min_amount_fen,
                                       max_amount_fen=limits.max_amount_fen)
        no = opened.purchase_no
        journal.record_order(no, client.order_purchase(PurchaseOrder(no, TERMINAL_ID, reading)))
        journal.start_purchase_cash(no)
        for n, fen in enumerate(notes):
            journal.record_note(opened.transaction_no, fen, f"acceptor-1/{no}/{n}")
        return journal.commit_purchase_cash(no, paid_at=clock())

    return make


def booked(journal, client, purchase):
    """The billing system booked it and issued its write token (what the purchase worker records)."""
    no = purchase.purchase_no
    return journal.record_issue(no, client.pay_purchase(journal.purchase_payment_request(no)))


def written(journal, issued):
    journal.begin_write(issued.purchase_no)
    return journal.record_write(issued.purchase_no, "written", card_count=issued.token_count,
                                card_credit_fen=issued.token_credit_fen)


def every_kind(journal, client, committed, clock) -> dict[str, str]:
    """One purchase of each kind the page lists, and two it does not; their numbers by kind."""
    retrying = committed()
    journal.mark_purchase_pending(retrying.purchase_no, "TIMEOUT", "no answer within 3 s")
    journal.mark_purchase_pending(retrying.purchase_no, "HTTP_503", "the posting went nowhere")
    referred = committed()
    journal.mark_purchase_referred(referred.purchase_no, "CARD_CANCELLED", "the card was reported lost")
    clock.now += 60
    account, count, _ = CARDS["electricity_card"]
    utility, account_no = DEMO_ACCOUNTS[account]
    left = journal.open_purchase(TERMINAL_ID, CardReading(DEMO_CARDS["electricity_card"], utility, account_no, count,
                                                          0, count, 0), 5000, min_amount_fen=1000,
                                 max_amount_fen=200000)
    journal.cancel_purchase(left.purchase_no, "LEFT", "the customer left before paying")
    done = written(journal, booked(journal, client, committed()))
    journal.record_confirmed(done.purchase_no, "2026-11-23T10:30:00+08:00")
    pulled = booked(journal, client, committed("gas_card"))
    journal.begin_write(pulled.purchase_no)
    journal.record_write(pulled.purchase_no, "refused", reason="CARD_REMOVED", detail="card pulled mid-write")
    to_confirm = written(journal, booked(journal, client, committed("water_card")))
    clock.now += 600
    return {"retrying": retrying.purchase_no, "referred": referred.purchase_no, "cancelled": left.purchase_no,
            "confirmed": done.purchase_no, "pulled": pulled.purchase_no, "to_confirm": to_confirm.purchase_no}


def test_paid_not_written_referred_and_queued_purchases_are_listed_newest_first_with_why(journal, client,
                                                                                         committed, clock):
    numbers = every_kind(journal, client, committed, clock)

    view = purchase_view(journal, clock())

    assert [row.purchase_no for row in view.rows] == [numbers[kind] for kind in
                                                      ("to_confirm", "pulled", "referred", "retrying")]
    to_confirm, pulled, referred, retrying = view.rows
    assert (to_confirm.state, to_confirm.queued, to_confirm.not_written) == ("written", "confirm", False)
    assert (pulled.state, pulled.reason, pulled.write_attempts, pulled.queued) == ("write_failed", "CARD_REMOVED",
                                                                                   1, "")
    assert (pulled.utility, pulled.amount_fen, pulled.not_written) == ("gas", 3000, True)
    assert (referred.state, referred.error_code, referred.queued) == ("referred", "CARD_CANCELLED", "")
    assert (retrying.state, retrying.queued, retrying.attempts, retrying.error_code) == ("committed", "payment", 2,
                                                                                         "HTTP_503")
    assert retrying.age_s == 5 * 60 + 600  # five purchases opened after it (a minute each), then ten minutes
    assert (view.total, view.not_written, view.referred, view.queued) == (4, 2, 1, 2)
    assert view.not_written_fen == 3000 + 5000


def test_no_field_of_a_row_holds_the_account_number_the_card_serial_or_the_detail_words(journal, client,
                                                                                       committed, clock):
    every_kind(journal, client, committed, clock)

    view = purchase_view(journal, clock())

    everything = repr(view)
    for card, (account, _, _) in CARDS.items():
        assert DEMO_CARDS[card] not in everything, f"{card}'s serial is in the view"
        assert DEMO_ACCOUNTS[account][1] not in everything, f"{account}'s number is in the view"
    for words in ("card pulled", "reported lost", "no answer", "went nowhere", "customer left"):
        assert words not in everything, f"{words!r} is in the view"
    gas_serial = DEMO_CARDS["gas_card"]
    assert view.rows[1].card_masked == "*" * (len(gas_serial) - 4) + gas_serial[-4:]
    assert "*" in view.rows[1].account_masked


def test_the_list_holds_only_the_newest_and_counts_them_all(journal, client, committed, clock):
    made = [committed() for _ in range(4)]
    for purchase in made[:3]:
        journal.mark_purchase_referred(purchase.purchase_no, "CARD_CANCELLED")

    view = purchase_view(journal, clock(), limit=2)

    assert [row.purchase_no for row in view.rows] == [made[3].purchase_no, made[2].purchase_no]
    assert (view.total, view.referred, view.not_written, view.queued) == (4, 3, 1, 1)
    assert purchase_view(journal, clock()).total == 4 and len(purchase_view(journal, clock()).rows) == 4


def test_an_empty_journal_lists_nothing(journal, clock):
    view = purchase_view(journal, clock())
    assert (view.rows, view.total, view.not_written_fen) == ((), 0, 0)


@pytest.fixture
def purchase_worker(journal, sim) -> Iterator[PurchaseSyncWorker]:
    """The purchase outbox's worker on a client of its own; after a failure it waits a minute unless woken."""
    with BackendClient(sim.url, TERMINAL_ID, SECRET, connect_timeout_s=0.5, read_timeout_s=0.5, retries=0) as own:
        made = PurchaseSyncWorker(journal, own.pay_purchase, own.confirm_write, own.purchase_status,
                                  base_delay_s=60, max_delay_s=60)
        yield made
        assert made.stop(timeout=5)


def test_sync_now_wakes_the_purchase_worker_and_counts_what_it_posted(journal, committed, sim, purchase_worker):
    purchase = committed()
    sim.inject("drop", path_prefix=PURCHASES_PATH)
    purchase_worker.start()
    wait_for(lambda: journal.get_purchase(purchase.purchase_no).attempts == 1)  # in its minute of backoff
    sim.clear_faults()  # the network is back

    outcome = wait_purchase_sync(journal, wake_purchase_sync(journal, purchase_worker), wait_s=10)

    assert (outcome.running, outcome.posted, outcome.still_waiting, outcome.answered) == (True, 1, 0, True)
    assert journal.get_purchase(purchase.purchase_no).state == "issued"  # booked, the card still to be written
    assert journal.purchase_outbox() == []


def test_sync_now_without_a_purchase_worker_sends_nothing_and_says_what_waits(journal, committed, sim):
    committed()
    outcome = wait_purchase_sync(journal, wake_purchase_sync(journal, None), wait_s=10)
    assert (outcome.running, outcome.still_waiting) == (False, 1)
    assert not [p for p in sim.purchases if p.get("amount_fen")]  # nothing booked


def test_the_operations_page_says_what_sync_now_did_with_the_card_purchases(tmp_path: Path, journal, committed,
                                                                          sim, purchase_worker, clock):
    committed()
    sim.inject("drop", path_prefix=PURCHASES_PATH)
    purchase_worker.start()
    wait_for(lambda: purchase_worker.stats.failures == 1)
    sim.clear_faults()
    store = MaintenanceStore(tmp_path / "data" / "maintenance.sqlite")
    audit = Audit(store, keep_days=365, clock=clock)
    model = OperationsModel(journal=journal, sync=None, switch=ServiceSwitch(store, audit, clock), audit=audit,
                            log_dir=str(tmp_path / "log"), export_dir=str(tmp_path / "media"), terminal_id="T0001",
                            clock=clock, sync_wait_s=10, purchase_sync=purchase_worker)
    try:
        view = model.sync_now("li.wei")
    finally:
        store.close()

    # No bill payment waited: the card purchases' sentence is the whole message.
    assert view.notice.text(Translator("en")) == "Card purchases: 1 sent, 0 referred to the counter, 0 still waiting."
    assert view.purchase_notice is None
    assert view.purchases.rows[0].state == "issued" and view.purchases.queued == 0
