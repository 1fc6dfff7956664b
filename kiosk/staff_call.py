"""One customer's call for a staff member from "Need help?": whether the
button is offered, what the card says while and after the call runs, and when
the call is forgotten.

Its own module because these are decisions and the controller is glue: tests
drive them without a window.  The call itself is
:meth:`kiosk.backend.client.BackendClient.request_assistance`, run off the GUI
thread by the controller, which hands the outcome back here.

A call belongs to the customer who made it: after it got through the button
stays off, and it is forgotten when the journey comes home from a customer's
step (Home, the idle wipe) -- so the next customer may call again, and a late
answer to a forgotten call is dropped.  A call made on the home screen, where
no session runs, is kept into the session its caller starts next.  A failed
call may be tried again under the same idempotency key, so a first attempt
whose answer was lost does not bring two people.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import Enum
from typing import Callable

from contract.assistance import AssistanceReply, new_assistance_key
from kiosk.journey_state import Step


class CallPhase(Enum):
    READY = "ready"
    CALLING = "calling"
    CALLED = "called"
    FAILED = "failed"


# What the card says in each phase (i18n keys); "" says nothing.
_MESSAGES = {
    CallPhase.READY: "",
    CallPhase.CALLING: "help.calling",
    CallPhase.CALLED: "help.called",
    CallPhase.FAILED: "help.call_failed",
}


@dataclass(frozen=True)
class StaffCallView:
    """What the help card shows of the call: the button, and a line under it."""

    offered: bool  # the button is there at all ([help] call_staff)
    enabled: bool
    message_key: str = ""
    request_id: str = ""  # the counter's number for the call, once it is queued


@dataclass(frozen=True)
class StaffCallRequest:
    """The effect :meth:`StaffCall.start` asks its owner to carry out."""

    ticket: int
    step: str  # the journey step's name: all the call says of the customer
    key: str  # the Idempotency-Key


class StaffCall:
    def __init__(self, offered: bool, new_key: Callable[[], str] = new_assistance_key) -> None:
        self._offered = offered
        self._new_key = new_key
        self._tickets = itertools.count(1)
        self._in_session = False
        self.reset()

    @property
    def phase(self) -> CallPhase:
        return self._phase

    @property
    def view(self) -> StaffCallView:
        enabled = self._phase in (CallPhase.READY, CallPhase.FAILED)
        return StaffCallView(self._offered, self._offered and enabled, _MESSAGES[self._phase], self._request_id)

    def start(self, step: Step) -> StaffCallRequest | None:
        """The tap on the button: the call to make, or None when there is none
        to make (not offered, one running, or this customer's got through)."""
        if not self.view.enabled:
            return None
        self._phase = CallPhase.CALLING
        self._ticket = next(self._tickets)
        return StaffCallRequest(self._ticket, step.value, self._key)

    def succeeded(self, ticket: int, reply: AssistanceReply) -> bool:
        """The counter queued the call; False for an answer nobody waits for."""
        if not self._is_current(ticket):
            return False
        self._phase, self._request_id = CallPhase.CALLED, reply.request_id
        return True

    def failed(self, ticket: int) -> bool:
        """The call did not get through (any BackendError: the card never shows a code)."""
        if not self._is_current(ticket):
            return False
        self._phase = CallPhase.FAILED
        return True

    def follow(self, step: Step) -> None:
        """The journey is at ``step``: coming home from a customer's step ends
        the session, and its call with it."""
        if self._in_session and step is Step.HOME:
            self.reset()
        self._in_session = step is not Step.HOME

    def reset(self) -> None:
        """Forget the call; an answer still on its way is dropped."""
        self._phase = CallPhase.READY
        self._request_id = ""
        self._ticket: int | None = None
        self._key = self._new_key()

    def _is_current(self, ticket: int) -> bool:
        return self._phase is CallPhase.CALLING and ticket == self._ticket
