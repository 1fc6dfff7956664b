"""Wires the "Need help?" card: calling a staff member through the billing system, and the voice controls.

The card is built on first use; its buttons are connected then.  The call
runs as a background operation; :class:`~kiosk.staff_call.StaffCall` decides
whether there is a call to make (one per customer, not while one is on its
way) and what the card says about it.
"""

from __future__ import annotations

import logging

from contract.errors import as_backend_error
from kiosk.staff_call import StaffCall, StaffCallRequest
from screens.background import BackgroundOp

log = logging.getLogger("kiosk.app")


class HelpCardWiring:
    def __init__(self, kiosk, call_staff_allowed: bool) -> None:
        """``kiosk``: the :class:`~app.controller.KioskApp` (its journey, backend, voice and window)."""
        self.kiosk = kiosk
        self.staff_call = StaffCall(call_staff_allowed)
        self._wired = False

    def render(self, ctx) -> None:
        """After the window rendered a step with the card shown: its staff-call row."""
        overlay = self.kiosk.window.help_overlay
        if not self._wired:
            overlay.call_staff_requested.connect(self.call_staff)
            overlay.voice_control.connect(lambda action: (self.kiosk.voice.control(action), self.kiosk.render()))
            self._wired = True
        overlay.render_staff_call(ctx, self.staff_call.view)

    def call_staff(self) -> None:
        """"Call a staff member" on the help card."""
        kiosk = self.kiosk
        request = self.staff_call.start(kiosk.journey.state.step)
        if request is None:
            return
        kiosk.render()
        BackgroundOp(
            kiosk,
            op=lambda: kiosk.backend.get("assistance").request_assistance(request.step, request.key),
            success=lambda reply: self.staff_call.succeeded(request.ticket, reply) and kiosk.render(),
        ).failure(lambda exc: self._failed(request, exc)).run_in_background()

    def _failed(self, request: StaffCallRequest, exc: BaseException) -> None:
        error = as_backend_error(exc)
        log.warning("calling a staff member failed", extra={"code": error.code, "detail": error.detail})
        if self.staff_call.failed(request.ticket):
            self.kiosk.render()
