"""The customer journey's money steps: the notice, the cash-in, paying, the result.

A part of :class:`kiosk.journey.Journey` (which inherits it), kept in its own
module because money in play has rules of its own: once a note may go in,
neither "Back" nor an idle customer ends the step; only the customer's "Done"
or "Cancel", the cash-in's timeout or the payment's result do.  Plain Python,
no Qt, like the rest of the journey.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from contract.payment_state import CANCELLED, REFERRED
from kiosk.journey_state import CashInRequest, JourneyState, PayNotice, Step
from kiosk.payment_record import CashPayment


class CashInSteps:
    """Overview → notice → cash-in → paying → paid, as :class:`~kiosk.journey.Journey` methods.

    The journey provides what these steps work on: its current state, the one
    way to change it, the customer's touch and the idle prompt's deadline.
    """

    _state: JourneyState
    _set: Callable[[JourneyState], None]
    touch: Callable[[], None]
    _prompt_deadline: float | None
    top_up_below_minimum: Callable[[], bool]

    def start_payment(self, cap_fen: int, slip_available: bool, accepted_yuan: tuple[int, ...]) -> None:
        """Overview → the notice shown before any money goes in."""
        self.touch()
        state = self._state
        if state.step is not Step.OVERVIEW or state.account is None or state.account.closed:
            return
        due = max(0, state.account.arrears_fen)
        self._set(replace(state, step=Step.PAY_NOTICE, notice=PayNotice(slip_available, tuple(accepted_yuan)),
                          payment=CashPayment(due, cap_fen)))

    def begin_cash_in(self) -> CashInRequest | None:
        """The customer read the notice and goes on: open the payment, enable the acceptor."""
        self.touch()
        state = self._state
        if state.step is not Step.PAY_NOTICE or state.payment is None:
            return None
        self._set(replace(state, step=Step.CASH_IN))
        return CashInRequest(state.utility_id or state.account.utility, state.account,
                             state.payment.amount_due_fen, state.payment.cap_fen)

    def cash_in_progress(self, payment: CashPayment) -> None:
        """News from the cash-in (a note stacked or returned): the customer is active."""
        if self._state.step is not Step.CASH_IN or self._state.payment is None:
            return
        self.touch()
        self._set(replace(self._state, payment=payment))

    def ask_to_finish(self) -> bool:
        """"Done paying": True if the owner should finish now.

        With nothing put in there is nothing to finish.  With less than is
        owed the customer is asked first (the rest stays owed, the notes are
        not given back); with the amount due or more it finishes at once."""
        self.touch()
        state = self._state
        if state.step is not Step.CASH_IN or state.payment is None or state.payment.paid_fen == 0:
            return False
        if state.top_up is not None and self.top_up_below_minimum():
            return False  # less than the smallest purchase: the screen asks for more notes
        if state.payment.still_due_fen == 0:
            return self.finish_cash_in()
        self._set(replace(state, confirm_finish=True))
        return False

    def ask_to_cancel(self) -> bool:
        """"Cancel": with nothing in, True (finish now, which cancels); with money in, ask."""
        self.touch()
        state = self._state
        if state.step is not Step.CASH_IN or state.payment is None:
            return False
        if state.payment.paid_fen == 0:
            return self.finish_cash_in()
        self._set(replace(state, confirm_finish=True))
        return False

    def keep_paying(self) -> None:
        """The customer answered "put in more notes" to the confirmation."""
        self.touch()
        if self._state.confirm_finish:
            self._set(replace(self._state, confirm_finish=False))

    def finish_cash_in(self) -> bool:
        """"Done" (or "Cancel", or the cash-in timed out): True if the owner should finish it now.

        Money already stacked is never cancelled: it is paid in either way."""
        state = self._state
        if state.step is not Step.CASH_IN:
            return False
        self._prompt_deadline = None
        if state.top_up is not None:  # a card's credit: paid in, then written to the card
            self._set(replace(state, step=Step.TOP_UP_WRITING, idle_prompt=None, confirm_finish=False,
                              top_up=replace(state.top_up, writing=True)))
        else:
            self._set(replace(state, step=Step.PAYING, idle_prompt=None, confirm_finish=False))
        return True

    def payment_finished(self, payment: CashPayment) -> None:
        """The payment's result (``payment.outcome`` set): the result screen, or the account
        again when nothing went in."""
        state = self._state
        if state.step not in (Step.PAYING, Step.CASH_IN) or state.payment is None:
            return
        self.touch()
        if payment.outcome == CANCELLED:  # nothing went in: back to the account
            self._set(replace(state, step=Step.OVERVIEW, notice=None, payment=None))
        else:
            self._set(replace(state, step=Step.PAID, payment=replace(payment, note_in_escrow=False)))

    def payment_referred(self, problem_key: str, *, nothing_paid: bool = False) -> None:
        """The payment could not be opened or completed: the customer goes to the counter
        with the transaction number; what the journal holds is finished by recovery."""
        payment = self._state.payment
        if payment is not None:
            self.payment_finished(replace(payment, outcome=REFERRED, problem_key=problem_key,
                                          **({"paid_fen": 0, "notes_fen": ()} if nothing_paid else {})))
