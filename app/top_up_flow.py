"""Wires a prepaid card's top-up: the journey's top-up steps, the TopUpService, on the GUI thread.

Every call of the service blocks (the card, the billing system, the
journal), so each runs as a :class:`~screens.background.BackgroundOp` and its
answer comes back to the journey here: the offer for the card inserted, the
order and its cash-in, the write and its result, a rewrite (补写卡).  The
cash-in itself is the controller's (the same acceptor news, idle rules and
"Done"); only its completion comes here, because it ends in a write.

Until the payment stack has brought the service up (journal recovered, the
purchase outbox running) there is no top-up: a prepaid card is read as an
account card, its bill shown, as before.
"""

from __future__ import annotations

import logging

from contract.errors import BackendError
from kiosk.journey_state import Step
from kiosk.top_up_records import TopUpRefused
from screens.background import BackgroundOp

log = logging.getLogger("kiosk.top_up")

# The screens whose taps this wires (the window builds them on first use).
TOP_UP_SCREENS = (Step.CARD_OVERVIEW, Step.TOP_UP_AMOUNT, Step.TOP_UP_DONE)


class TopUpFlow:
    def __init__(self, kiosk) -> None:
        """``kiosk``: the :class:`~app.controller.KioskApp` (its journey, its signals, the parent of every op)."""
        self.kiosk = kiosk
        self.journey = kiosk.journey
        self.service = None  # kiosk.top_up.TopUpService, once the payment stack is up
        self._session = None  # the TopUpSession whose money is being taken

    @property
    def available(self) -> bool:
        return self.service is not None

    def up(self, service) -> None:
        """The payment stack's TopUpService (None: no top-up on this kiosk: no card reader, no journal)."""
        self.service = service

    def wire(self, step: Step, screen) -> None:
        j = self.journey
        if step is Step.CARD_OVERVIEW:
            screen.buy_chosen.connect(j.buy_credit)
            screen.rewrite_chosen.connect(self.rewrite)
            screen.bill_chosen.connect(self.show_bill)
        elif step is Step.TOP_UP_AMOUNT:
            screen.keypad.digit_pressed.connect(j.amount_digit)
            screen.keypad.backspace_pressed.connect(j.amount_backspace)
            screen.keypad.clear_pressed.connect(j.amount_clear)
            screen.preset_chosen.connect(j.amount_preset)
            screen.submitted.connect(self.order)
        elif step is Step.TOP_UP_DONE:
            screen.rewrite_chosen.connect(self.rewrite)

    # -- the card --------------------------------------------------------------------
    def card_inserted(self, utility_id: str, card_serial: str) -> None:
        ticket = self.journey.top_up_card_inserted(utility_id, card_serial)
        self._ask_offer(ticket)

    def _ask_offer(self, ticket: int | None) -> None:
        if ticket is None or self.service is None:
            return
        service, clients = self.service, self.kiosk.backend

        def offer():  # on a worker: the lookup client is made here on its first use, never on the GUI thread
            found = service.offer()
            try:  # the tariff and the holder: shown when the billing system has them, never required
                account = clients.get("lookup").lookup_account(found.reading.utility, found.reading.account_no)
            except BackendError as error:
                log.info("card's account not looked up for its overview: %s", error.code)
                account = None
            return found, account

        BackgroundOp(self.kiosk, op=offer, success=lambda found: self.journey.top_up_offered(ticket, *found)) \
            .failure(lambda exc: self._refused(ticket, exc)).run_in_background()

    def offer_again(self) -> None:
        """"Try again" after a refusal: the card in the reader asked once more."""
        state = self.journey.state
        if state.top_up is not None and state.utility_id:
            self._ask_offer(self.journey.top_up_card_read(state.utility_id))

    def show_bill(self) -> None:
        """"Bill and usage" on the card's overview: the account's bill, as an account card shows it."""
        offer = self.journey.state.top_up.offer if self.journey.state.top_up else None
        if offer is not None:
            self.kiosk.look_up_card(offer.reading.utility, offer.reading.account_no)

    # -- the order and its money ---------------------------------------------------------
    def order(self) -> None:
        order = self.journey.submit_amount()
        if order is None:
            return
        if self.service is None or not self.kiosk.service_level().cash:
            self.journey.top_up_refused(None, "CASH_OFF")
            return
        service, progress = self.service, self.kiosk.cash_progress.emit
        BackgroundOp(self.kiosk, op=lambda: service.open(order.offer, order.chosen_fen, progress),
                     success=self._opened).failure(lambda exc: self._refused(None, exc)).run_in_background()

    def _opened(self, session) -> None:
        self._session = session
        limits = session.offer.limits
        self.journey.top_up_opened(session.progress.amount_due_fen, limits.max_amount_fen, session.transaction_no)
        if self.journey.state.step is not Step.CASH_IN:  # the customer went before the money could start
            self.complete()

    def complete(self) -> None:
        """The cash-in is finished ("Done", its timeout, the acceptor failed): post, write, confirm."""
        session, self._session = self._session, None
        if session is None:
            return
        service = self.service
        BackgroundOp(self.kiosk, op=lambda: service.complete(session), success=self.journey.top_up_finished) \
            .failure(lambda exc: self._not_completed(session, exc)).run_in_background()

    def _not_completed(self, session, exc: BaseException) -> None:
        # The journal holds what was stacked; recovery finishes it.  The customer is told
        # what the journal says now, with the purchase number for the counter.
        log.critical("top-up %s could not be completed", session.purchase_no, exc_info=exc)
        service = self.service
        BackgroundOp(self.kiosk, op=lambda: service.result_of(session.purchase_no, "JOURNAL_FAILED"),
                     success=self.journey.top_up_finished).run_in_background()

    # -- the rewrite (补写卡) ----------------------------------------------------------------
    def rewrite(self) -> None:
        request = self.journey.start_rewrite()
        if request is None or self.service is None:
            return
        service = self.service
        BackgroundOp(self.kiosk, op=lambda: service.rewrite(request.purchase_no),
                     success=self.journey.top_up_finished).failure(lambda exc: self._refused(None, exc)) \
            .run_in_background()

    def _refused(self, ticket: int | None, exc: BaseException) -> None:
        if isinstance(exc, TopUpRefused):
            code, retryable = exc.code, exc.retryable
            log.warning("top-up refused: %s", exc)
        elif isinstance(exc, BackendError):
            code, retryable = exc.code, exc.retryable
            log.warning("top-up refused by the billing system: %s %s", exc.code, exc.detail)
        else:
            code, retryable = "TOP_UP_ERROR", False
            log.error("top-up failed unexpectedly", exc_info=exc)
        self.journey.top_up_refused(ticket, code, retryable=retryable)
