"""'Need help?' — where a person is: the staffed counter, the hotline, the hours,
and (``[help] call_staff``) a button that calls a staff member to the machine.

Laid over whatever step the customer is on (the header's help button is on
every screen); closing it leaves the step exactly as it was, money included.
The call's state is :class:`kiosk.staff_call.StaffCall`'s; the card only shows it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.staff_call import StaffCallView
from screens.context import RenderContext, centered, set_role


class HelpOverlay(QWidget):
    closed = Signal()
    call_staff_requested = Signal()
    voice_control = Signal(str)  # "softer", "louder", "mute"

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("idleShade")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        card = QFrame(objectName="idleCard")
        card.setFixedWidth(1040)
        self.title = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "title")
        self.counter = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "advice")
        self.hotline = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "advice")
        self.hours = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        self.money = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "subtitle")
        # Primary, as what a customer who asked for help came for.  (A plain
        # button, disabled once the call got through, would look enabled in
        # elder mode: its stylesheet darkens disabled text to the enabled ink.)
        self.call_button = set_role(QPushButton(), "primary")
        self.call_button.clicked.connect(self.call_staff_requested)
        self.call_status = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "advice")
        self.close_button = set_role(QPushButton(), "primary")
        self.close_button.clicked.connect(self.closed)
        # Too loud, too soft, or not wanted: the customer decides, for this visit only.
        self.voice_buttons = {action: set_role(QPushButton(objectName=f"voice_{action}"), "secondary")
                              for action in ("softer", "louder", "mute")}
        for action, button in self.voice_buttons.items():
            button.clicked.connect(lambda _=False, a=action: self.voice_control.emit(a))
        self.voice_row = QWidget()
        voice_layout = QHBoxLayout(self.voice_row)
        voice_layout.setContentsMargins(0, 0, 0, 0)
        voice_layout.setSpacing(24)
        voice_layout.addStretch(1)
        for button in self.voice_buttons.values():
            voice_layout.addWidget(button)
        voice_layout.addStretch(1)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(60, 40, 60, 40)
        inner.setSpacing(16)
        for label in (self.title, self.counter, self.hotline, self.hours, self.money):
            inner.addWidget(label)
        inner.addLayout(centered(self.call_button))
        inner.addWidget(self.call_status)
        inner.addWidget(self.voice_row)
        inner.addSpacing(16)
        inner.addLayout(centered(self.close_button))
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        # In a row, not aligned in the column: an aligned item's wrapped labels
        # get heights for the column's width, not the card's, and are cut off.
        outer.addLayout(centered(card))
        outer.addStretch(1)
        self.call_button.hide()
        self.call_status.hide()
        self.hide()

    def render(self, ctx: RenderContext, shown: bool, money_in_play: bool) -> None:
        if not shown:
            self.hide()
            return
        tr, terminal = ctx.tr, ctx.config.terminal
        self.title.setText(tr("help.title"))
        self.counter.setText(tr("help.counter", counter=tr("slip.default_counter")))
        self.hotline.setText(tr("help.hotline", hotline=terminal.hotline))
        self.hours.setText(tr("help.hours", hours=ctx.config.service_hours.text(), terminal_id=terminal.id))
        # While notes are in, the customer must know leaving the screen loses nothing.
        self.money.setText(tr("help.money_safe") if money_in_play else "")
        self.money.setVisible(money_in_play)
        self.close_button.setText(tr("help.close"))
        self._render_voice(ctx)
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()

    def _render_voice(self, ctx: RenderContext) -> None:
        voice = ctx.voice
        self.voice_row.setVisible(voice is not None)
        if voice is None:
            return
        tr = ctx.tr
        self.voice_buttons["softer"].setText(tr("voice.softer"))
        self.voice_buttons["louder"].setText(tr("voice.louder", volume=voice.volume))
        self.voice_buttons["mute"].setText(tr("voice.unmute" if voice.muted else "voice.mute"))

    def render_staff_call(self, ctx: RenderContext, view: StaffCallView) -> None:
        """The call button and the line under it: calling, on the way, or where else to go."""
        tr = ctx.tr
        self.call_button.setVisible(view.offered)
        self.call_button.setEnabled(view.enabled)
        self.call_button.setText(tr("help.call_staff"))
        self.call_status.setText(tr(
            view.message_key,
            request_id=view.request_id,
            counter=tr("slip.default_counter"),
            hotline=ctx.config.terminal.hotline,
        ) if view.message_key else "")
        self.call_status.setVisible(bool(view.message_key))
