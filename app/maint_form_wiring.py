"""What a maintenance page's wiring does the same way for every form: quick taps, work, render, wipe."""

from __future__ import annotations


class FormWiring:
    """A page whose Qt-free form answers each call with its view.

    Quick calls (a tap, a phrase) run here and show their view at once; work
    (the journal, the archive, the printer) runs through the controller on a
    worker and shows its view when it is done.  While work runs, taps wait."""

    def __init__(self, controller, widget) -> None:
        self.controller = controller
        self.widget = widget
        self.form = None
        self.view = None

    def _quick(self, action: str, *args) -> None:
        if self.form is None or self.controller.busy:
            return
        self.controller.touch()
        self.view = getattr(self.form, action)(*args)
        self.controller.render()

    def _work(self, action) -> None:
        self.controller.touch()
        form = self.form
        self.controller.run(lambda parts: action(form), self._shown)

    def _shown(self, view) -> None:
        self.view = view

    def render(self, ctx) -> None:
        if self.view is not None:
            self.widget.render(ctx, self.view)

    def wipe(self) -> None:
        """Logout: the next person starts with a new form."""
        if self.form is not None:
            self.form.wipe()
        self.form, self.view = None, None
        self.widget.wipe()
