"""The login page and the supervisor's accounts page, wired to their forms.

The forms live on the GUI thread; only what touches the maintenance file (the
list of names, a PIN's scrypt, a change to an account) runs on a worker.
"""

from __future__ import annotations

import logging

from kiosk.maintenance_login import LoginForm
from kiosk.maintenance_staff import StaffForm

log = logging.getLogger("kiosk.maintenance")


class LoginWiring:
    def __init__(self, controller) -> None:
        from screens.maintenance.login_page import LoginPage

        self.controller = controller
        self.widget = page = LoginPage()
        self.form: LoginForm | None = None
        page.user_chosen.connect(lambda name: self._then(self.form.choose, name))
        page.digit_typed.connect(lambda digit: self._then(self.form.digit, digit))
        page.backspace_pressed.connect(lambda: self._then(self.form.backspace))
        page.clear_pressed.connect(lambda: self._then(self.form.clear))
        page.page_tapped.connect(lambda number: self._then(self.form.show_page, number))
        page.login_tapped.connect(self._log_in)
        page.cancel_tapped.connect(controller.close)

    def open(self) -> None:
        def load(parts) -> LoginForm:
            form = LoginForm(parts.accounts)
            form.load()
            return form

        self.controller.run(load, self._loaded)

    def _loaded(self, form: LoginForm) -> None:
        self.form = form

    def _then(self, action, *args) -> None:
        if self.form is None:
            return
        self.controller.parts.session.touch()
        action(*args)
        self.controller.render()

    def _log_in(self) -> None:
        form = self.form
        request = form.request() if form is not None else None
        if request is None:
            self.controller.render()
            return
        self.controller.run(lambda parts: parts.session.login(request.name, request.pin), self._checked,
                            lambda error: form.failed(f"{type(error).__name__}: {error}"))

    def _checked(self, result) -> None:
        self.form.finish(result)
        session = self.controller.parts.session
        # The screen may have closed while the PIN was checked (idle): nobody is let in then.
        if result.ok and session.user is not None and self.controller.is_open:
            self.form.wipe()
            self.controller.logged_in()

    def render(self, ctx) -> None:
        if self.form is not None:
            self.widget.render(ctx, self.form.view())

    def wipe(self) -> None:
        if self.form is not None:
            self.form.wipe()
        self.widget.wipe()


class AccountsWiring:
    """The supervisor's page: list, unlock, reset a PIN, add a person."""

    def __init__(self, controller) -> None:
        from screens.maintenance.accounts_page import AccountsPage

        self.controller = controller
        self.widget = page = AccountsPage()
        self.form: StaffForm | None = None
        page.unlock_tapped.connect(lambda name: self._change(self.form.unlock_request(name)))
        page.save_tapped.connect(lambda: self._change(self.form.save_request()))
        for signal, action in ((page.reset_tapped, "start_reset"), (page.add_tapped, "start_add"),
                               (page.page_tapped, "show_page"), (page.name_changed, "set_name"),
                               (page.role_chosen, "choose_role"), (page.digit_typed, "digit"),
                               (page.backspace_pressed, "backspace"), (page.clear_pressed, "clear"),
                               (page.next_tapped, "next"), (page.back_tapped, "back"),
                               (page.cancel_tapped, "cancel")):
            signal.connect(lambda *args, name=action: self._then(name, *args))

    def open(self) -> None:
        supervisor = self.controller.parts.session.user

        def load(parts) -> StaffForm:
            form = StaffForm(parts.accounts)
            form.load(supervisor)
            return form

        self.controller.run(load, self._loaded)

    def _loaded(self, form: StaffForm) -> None:
        self.form = form

    def _then(self, action: str, *args) -> None:
        if self.form is None:
            return
        self.controller.touch()
        getattr(self.form, action)(*args)
        self.controller.render()

    def _change(self, change) -> None:
        self.controller.touch()
        if change is None:
            self.controller.render()
            return
        form = self.form
        self.controller.run(lambda parts: form.apply(change), form.finish,
                            lambda error: form.failed(f"{type(error).__name__}: {error}"))

    def render(self, ctx) -> None:
        if self.form is not None:
            self.widget.render(ctx, self.form.view())

    def wipe(self) -> None:
        if self.form is not None:
            self.form.wipe()
        self.widget.wipe()
