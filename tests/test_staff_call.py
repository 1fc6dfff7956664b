"""StaffCall: one customer's call for a staff member, decided without a window."""

from __future__ import annotations

import itertools

from contract.assistance import AssistanceReply
from kiosk.journey_state import Step
from kiosk.staff_call import CallPhase, StaffCall

QUEUED = AssistanceReply(request_id="A0001", status="queued")


def _call(offered: bool = True) -> StaffCall:
    keys = (f"key-{n:04d}" for n in itertools.count(1))
    return StaffCall(offered, new_key=lambda: next(keys))


def test_a_call_got_through_shows_its_number_and_turns_the_button_off():
    call = _call()
    request = call.start(Step.OVERVIEW)
    assert request is not None and request.step == "overview"
    assert call.view.message_key == "help.calling" and not call.view.enabled
    assert call.start(Step.OVERVIEW) is None  # one call at a time
    assert call.succeeded(request.ticket, QUEUED)
    assert (call.view.message_key, call.view.request_id, call.view.enabled) == ("help.called", "A0001", False)
    assert call.start(Step.OVERVIEW) is None  # this customer has been called for


def test_a_failed_call_may_be_tried_again_under_the_same_key():
    call = _call()
    first = call.start(Step.ACCOUNT)
    assert call.failed(first.ticket)
    assert call.view.message_key == "help.call_failed" and call.view.enabled
    again = call.start(Step.ACCOUNT)
    assert again.key == first.key and again.ticket != first.ticket


def test_the_session_ending_at_home_forgets_the_call_and_drops_its_late_answer():
    call = _call()
    call.follow(Step.OVERVIEW)
    request = call.start(Step.OVERVIEW)
    call.follow(Step.HOME)
    assert not call.succeeded(request.ticket, QUEUED)
    assert call.phase is CallPhase.READY and call.view.enabled and call.view.message_key == ""
    assert call.start(Step.HOME).key != request.key  # the next customer's call is a new call


def test_a_call_made_on_the_home_screen_lasts_into_the_session_its_caller_starts():
    call = _call()
    call.follow(Step.HOME)
    call.succeeded(call.start(Step.HOME).ticket, QUEUED)
    call.follow(Step.HOME)  # the help card closed: still home, still the same person
    call.follow(Step.UTILITY)
    assert call.phase is CallPhase.CALLED
    call.follow(Step.HOME)
    assert call.phase is CallPhase.READY


def test_when_not_offered_there_is_no_button_and_no_call():
    call = _call(offered=False)
    assert not call.view.offered and not call.view.enabled
    assert call.start(Step.OVERVIEW) is None
