"""The cash collection page wired to its form: typing on the GUI thread, the journal and printer on a worker."""

from __future__ import annotations

from app.maint_form_wiring import FormWiring
from kiosk.cash_collection import CashCollection


class CollectionWiring(FormWiring):
    def __init__(self, controller) -> None:
        from screens.maintenance.collection_page import CollectionPage

        super().__init__(controller, CollectionPage())
        page = self.widget
        for signal, action in ((page.row_chosen, "choose_row"), (page.digit_pressed, "type_digit"),
                               (page.backspace_pressed, "backspace"), (page.clear_pressed, "clear_count"),
                               (page.note_edit_requested, "edit_note"), (page.phrase_toggled, "toggle_phrase"),
                               (page.note_text_changed, "set_note_text")):
            signal.connect(lambda *args, name=action: self._quick(name, *args))
        page.record_requested.connect(lambda: self._work(lambda form: form.record()))
        page.reprint_requested.connect(lambda number: self._work(lambda form: form.reprint(number or None)))
        page.reload_requested.connect(lambda: self._work(lambda form: form.load()))

    def open(self) -> None:
        """A new form for whoever is logged in, with the journal and printer as they are now."""
        user = self.controller.parts.session.user
        parts = self.controller.parts
        self.form = CashCollection(parts.payments.journal, config=parts.config, audit=parts.audit, user=user,
                                   printer=getattr(parts.devices, "printer", None), problem=parts.payments.problem)
        self.view = None
        self._work(lambda form: form.load())
