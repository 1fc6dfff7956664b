"""Wires the journey, the backend and the window together on the GUI thread.

Taps go to :class:`~kiosk.journey.Journey`; its effects (a lookup) run as
:class:`~screens.background.BackgroundOp`; every state change re-renders the
window.  Heartbeats decide whether the out-of-order sign is up.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.backend_clients import BackendClients
from app.help_card_wiring import HelpCardWiring
from app.top_up_flow import TOP_UP_SCREENS, TopUpFlow
from contract.errors import BackendError, as_backend_error
from contract.masking import mask_account
from drivers.status import DeviceStatus
from kiosk.availability import BackendAvailability
from kiosk.config import KioskConfig
from kiosk.device_monitor import DeviceMonitor
from kiosk.i18n import Translator
from kiosk.journey import Journey
from kiosk.journey_state import LookupRequest, Step
from kiosk.kiosk_policy import CardTakenOut, CardUnusable, LookUpCard, TopUpCard, card_news, must_finish_cash_in
from kiosk.payment_stack import CashOff
from kiosk.service_level import ServiceLevel
from kiosk.service_monitor import ServiceMonitor
from kiosk.voice_link import VoiceLink
from screens.background import BackgroundOp, worker_pool
from screens.context import RenderContext
from screens.main_window import MainWindow

log = logging.getLogger("kiosk.app")

# While the backend has never answered, ask again soon; the sign should come
# down within seconds of the network returning.
_RETRY_HEARTBEAT_MS = 2000


class KioskApp(QObject):
    # Drivers report on their own threads; these signals carry the news to the
    # GUI thread (queued: the receiver lives here).
    device_status = Signal(object)
    card_event = Signal(object)
    # Cash-in news (a note stacked or returned), from the acceptor's thread.
    cash_progress = Signal(object)

    def __init__(
        self,
        config: KioskConfig,
        backend_url: str | Callable[[], str],
        clock: Callable[[], float] = time.monotonic,
        archive=None,
        devices: tuple[str, ...] = (),
        payments=None,
        voice=None,
    ) -> None:
        """``payments``: the PaymentService (``kiosk run`` always has one); tests of the
        inquiry leave it out, and "Pay" then does nothing."""
        super().__init__()
        self.config = config
        self.lang = config.terminal.default_language
        self.journey = Journey(
            {u.id: u.rule for u in config.utilities},
            idle_prompt_after_s=config.idle.prompt_after_s,
            idle_countdown_s=config.idle.countdown_s,
            clock=clock,
            cash_in_prompt_after_s=config.payment.cash_in_prompt_after_s,
            cash_in_timeout_s=config.payment.cash_in_timeout_s,
        )
        self.payments = payments
        self.top_up = TopUpFlow(self)  # a prepaid card's credit, once the payment stack brings it up
        self._cash_in = None  # the CashIn of the payment on screen
        self.availability = BackendAvailability(config.backend.startup_grace_s, clock)
        # Only devices with a driver attached count; with none, nothing is missing.
        self.monitor = DeviceMonitor(archive, devices)
        # Closing time waits for a customer already being served (kept hours: ServiceMonitor.hours).
        self.services = ServiceMonitor(self.monitor, self.availability,
                                       session_open=lambda: self.journey.state.step is not Step.HOME)
        self.device_status.connect(self._on_device_status)
        self.card_event.connect(self._on_card_event)
        self.cash_progress.connect(self.journey.cash_in_progress)
        self.backend = BackendClients(config, backend_url)
        self.help_card = HelpCardWiring(self, config.help.call_staff)
        self.voice = VoiceLink(voice, config)  # voice: kiosk.voice.VoicePrompts, or None
        self.window = MainWindow(config, on_screen_built=self._wire)
        self.window.header.language_toggled.connect(self.toggle_language)
        self.window.header.help_requested.connect(self.journey.show_help)
        self.window.header.elder_toggled.connect(lambda: self.journey.set_elder(not self.journey.state.elder))
        self.window.header.voice_repeat.connect(lambda: self.voice.repeat())
        self.window.help_closed.connect(lambda: self.journey.show_help(False))
        self.window.home.pay_chosen.connect(self.journey.start_paying)
        self.window.home.inquiry_chosen.connect(self.journey.start_inquiry)
        self.window.home.card_chosen.connect(self.journey.start_card_inquiry)
        self._heartbeat_running = False
        self._last_step = Step.HOME
        self._stopping = False
        self.journey.subscribe(self._on_journey_changed)
        self._idle_timer = QTimer(self, interval=1000, timeout=self._tick)
        self._heartbeat_timer = QTimer(self, singleShot=True, timeout=self.heartbeat)

    # -- set-up ------------------------------------------------------------
    def _wire(self, step: Step | None, screen) -> None:
        """Connect a screen's taps to the journey when the window builds it."""
        j = self.journey
        if step is Step.UTILITY:
            screen.utility_chosen.connect(j.choose_utility)
        elif step is Step.ACCOUNT:
            screen.keypad.digit_pressed.connect(j.press_digit)
            screen.keypad.backspace_pressed.connect(j.backspace)
            screen.keypad.clear_pressed.connect(j.clear)
            screen.submitted.connect(self.submit)
        elif step is Step.LOOKUP:
            screen.cancelled.connect(j.cancel_lookup)
        elif step is Step.FAILED:
            screen.retry_requested.connect(self.retry)
        elif step is Step.OVERVIEW:
            screen.pay_chosen.connect(self.start_payment)
        elif step is Step.PAY_NOTICE:
            screen.go_on.connect(self.begin_cash_in)
        elif step is Step.CASH_IN:
            screen.done.connect(lambda: self.journey.ask_to_finish() and self._complete_payment())
            screen.cancelled.connect(lambda: self.journey.ask_to_cancel() and self._complete_payment())
            screen.confirmed.connect(self.finish_payment)
            screen.keep_paying.connect(j.keep_paying)
        elif step is Step.PAID:
            screen.another.connect(j.pay_another)
        elif step in TOP_UP_SCREENS:
            self.top_up.wire(step, screen)
        elif step is None:  # the idle prompt
            screen.more_time.connect(j.touch)
            screen.finish.connect(self._idle_finish)
        if hasattr(screen, "nav"):
            screen.nav.back.clicked.connect(j.back)
            screen.nav.home.clicked.connect(j.go_home)

    def start(self) -> None:
        self.render()
        self._idle_timer.start()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        # Context objects: a kiosk torn down before the loop turns drops these calls.
        QTimer.singleShot(0, self, self.heartbeat)
        QTimer.singleShot(0, self.window, self.window.build_remaining_screens)

    def stop(self) -> None:
        # Drivers stopped after this report "stopped": that is the kiosk
        # closing, not a device fault, and must not go into the archive.
        self._stopping = True
        self._idle_timer.stop()
        self._heartbeat_timer.stop()
        # Closing the clients ends every call in flight at once (their sockets
        # are shut down), so the workers finish before the objects their
        # results are delivered to go, and SIGTERM is not held up by a hanging call.
        self.backend.close()
        self.voice.close()
        worker_pool().waitForDone(5000)

    # -- rendering -----------------------------------------------------------
    def service_level(self) -> ServiceLevel:
        return self.services.level()

    def context(self) -> RenderContext:
        return RenderContext(self.config, Translator(self.lang), self.service_level(), self.voice.view())

    def render(self) -> None:
        ctx = self.context()
        self.window.render(ctx, self.journey.state, ctx.services)
        self.voice.follow(self.journey.state, self.lang)  # says a new screen's prompt once
        if self.journey.state.help_shown:
            self.help_card.render(ctx)

    # -- payments --------------------------------------------------------------------
    def payments_up(self, service) -> None:
        """The payment stack is open (journal recovered): ``service`` takes cash, or is None
        when there is nothing to pay with (no acceptor, the devices did not start)."""
        if service is None:
            return
        self.payments = service
        self.services.journal_ready()
        self.render()

    def payments_off(self, exc: BaseException) -> None:
        """Cash stays off: the journal refused (a :class:`CashOff` says why), or bringing
        payments up failed in a way nobody foresaw (logged here with its traceback)."""
        if isinstance(exc, CashOff):
            code, reason = exc.code, exc.reason
        else:
            log.critical("payments could not be brought up; cash payments are off", exc_info=exc)
            code, reason = "PAYMENTS_ERROR", f"{type(exc).__name__}: {exc}"
        self.services.journal_off(code, reason)
        self.render()

    # -- devices -----------------------------------------------------------------
    def _on_device_status(self, status: DeviceStatus) -> None:
        if self._stopping:
            return
        # Most news changes nothing a customer sees (the acceptor busy with a
        # note, a card present); re-rendering the overview for it costs ~10 ms
        # of the GUI thread (bench/gui_stall.py), so only a new service level does.
        before = self.service_level()
        if self.monitor.update(status) and self.service_level() != before:
            self.render()
            if must_finish_cash_in(self.journey.state.step, self.service_level()):
                # The acceptor failed mid-payment (a jam, the cash box pulled):
                # what is journaled is paid in now; the result screen refers
                # the customer to the counter if a note may be inside.
                log.error("acceptor failed during cash-in; finishing the payment",
                          extra={"reason": status.reason})
                self.finish_payment()

    def _on_card_event(self, event) -> None:
        """CardInserted / CardError from the card reader driver, on the GUI thread.

        A CardRemoved changes nothing on screen: a customer who took the card
        back is still reading the overview; the idle timer ends the session.
        """
        news = card_news(event, self.service_level(), top_up=self.top_up.available)
        if isinstance(news, LookUpCard):
            self.look_up_card(news.utility_id, news.account_no)
        elif isinstance(news, TopUpCard):
            self.top_up.card_inserted(news.utility_id, news.card_serial)
        elif isinstance(news, CardUnusable):
            self.journey.card_unreadable(news.reason)
        elif isinstance(news, CardTakenOut):
            self.journey.top_up_card_removed()

    def look_up_card(self, utility_id: str, account_no: str) -> None:
        self._look_up(self.journey.card_read(utility_id, account_no))

    def _on_journey_changed(self, state) -> None:
        if state.step is Step.HOME and self._last_step is not Step.HOME:
            # A customer left: the next starts in the hall's default language (a tap at home keeps it).
            self.lang = self.config.terminal.default_language
        self._last_step = state.step
        self.help_card.staff_call.follow(state.step)
        self.render()

    def toggle_language(self) -> None:
        languages = self.config.terminal.languages
        self.lang = languages[(languages.index(self.lang) + 1) % len(languages)]
        self.render()

    # -- customer actions that need the backend ---------------------------------
    def submit(self) -> None:
        self._look_up(self.journey.submit())

    def retry(self) -> None:
        if self.journey.state.top_up is not None:  # a card's top-up refused: ask for the card again
            return self.top_up.offer_again()
        self._look_up(self.journey.retry())

    def _look_up(self, request: LookupRequest | None) -> None:
        if request is None:  # the journey decided there is nothing to look up
            return
        log.info("account lookup started", extra={"utility": request.utility_id,
                                                   "account": mask_account(request.account_no)})
        journey = self.journey
        BackgroundOp(
            self,
            op=lambda: self.backend.get("lookup").lookup_account(request.utility_id, request.account_no),
            success=lambda account: journey.lookup_succeeded(request.ticket, account),
        ).failure(lambda exc: self._lookup_failed(request, exc)).run_in_background()

    def _lookup_failed(self, request: LookupRequest, exc: BaseException) -> None:
        error = as_backend_error(exc)
        if not isinstance(exc, BackendError):
            log.error("lookup failed unexpectedly", exc_info=exc)
        log.warning("account lookup failed", extra={"code": error.code, "detail": error.detail})
        self.journey.lookup_failed(request.ticket, error)

    # -- paying in cash -------------------------------------------------------------
    def start_payment(self) -> None:
        state = self.journey.state
        if state.account is None or self.payments is None:
            return
        level = self.service_level()
        payment = self.config.payment
        self.journey.start_payment(payment.cap_fen(state.account.arrears_fen), level.slip, payment.accepted_notes)

    def begin_cash_in(self) -> None:
        if not self.service_level().cash:  # the acceptor failed while the notice was up
            return
        request = self.journey.begin_cash_in()
        if request is None:
            return
        BackgroundOp(
            self,
            op=lambda: self.payments.open(request, self.cash_progress.emit),
            success=self._cash_in_open,
        ).failure(self._cash_in_not_opened).run_in_background()

    def _cash_in_open(self, cash_in) -> None:
        self._cash_in = cash_in
        if self.journey.state.step is not Step.CASH_IN:  # finished before it was open
            self._complete_payment()

    def _cash_in_not_opened(self, exc: BaseException) -> None:
        # Nothing was enabled, no money went in: say so and send to the counter.
        log.error("payment could not be opened", exc_info=exc)
        self.journey.payment_referred("pay.problem_journal", nothing_paid=True)

    def finish_payment(self) -> None:
        """"Finish paying" or "Cancel": money already stacked is paid in either way."""
        if self.journey.finish_cash_in():
            self._complete_payment()

    def _idle_finish(self) -> None:
        if self.journey.state.step is Step.CASH_IN:
            self.finish_payment()
        else:
            self.journey.go_home()

    def _complete_payment(self) -> None:
        if self.journey.state.top_up is not None:  # a card's credit: paid in, then written
            return self.top_up.complete()
        cash_in = self._cash_in
        if cash_in is None:  # still opening; _cash_in_open finishes it
            return
        self._cash_in = None
        BackgroundOp(
            self,
            op=lambda: self.payments.complete(cash_in),
            success=self.journey.payment_finished,
        ).failure(self._payment_failed).run_in_background()

    def _payment_failed(self, exc: BaseException) -> None:
        # The journal holds what was stacked; recovery on the next start
        # finishes it.  The customer is sent to the counter with the number.
        log.critical("payment could not be completed", exc_info=exc)
        self.journey.payment_referred("pay.problem_journal")

    # -- heartbeat and availability ----------------------------------------------
    def heartbeat(self) -> None:
        if self._heartbeat_running:
            return
        self._heartbeat_running = True
        level = self.service_level()
        status = level.terminal_status
        BackgroundOp(
            self,
            op=lambda: self.backend.get("heartbeat").heartbeat(status),
            success=lambda _reply: self._heartbeat_done(None),
        ).failure(self._heartbeat_done).run_in_background()

    def _heartbeat_done(self, exc: BaseException | None) -> None:
        self._heartbeat_running = False
        level_before = self.service_level()
        was_in_service = self.availability.level().in_service
        if exc is None:
            self.availability.record_success()
        else:
            error = as_backend_error(exc)
            self.availability.record_failure(f"{error.code}: {error.detail}")
            log.warning("heartbeat failed", extra={"code": error.code, "detail": error.detail})
        level = self.availability.level()
        if level.in_service != was_in_service:
            log.warning("service level changed", extra={"in_service": level.in_service,
                                                        "reason_code": level.reason_code})
        healthy = exc is None
        interval_ms = int(self.config.backend.heartbeat_interval_s * 1000) if healthy else _RETRY_HEARTBEAT_MS
        self._heartbeat_timer.start(interval_ms)
        if self.service_level() != level_before:
            self.render()

    def _tick(self) -> None:
        if self.journey.tick():  # the cash-in timed out: pay in what was stacked
            self._complete_payment()
        # Grace periods run out without any event; look again each second.
        if self.journey.state.step is Step.HOME:
            level = self.service_level()
            if level.in_service == self.window.showing_out_of_order:
                self.render()

    # -- any touch anywhere means the customer is still there --------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            # While the prompt is up, its own buttons answer it; dismissing it
            # on the press would swallow the tap on "Finish".
            if self.journey.state.step is not Step.HOME and self.journey.state.idle_prompt is None:
                self.journey.touch()
        return False
