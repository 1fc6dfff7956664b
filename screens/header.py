"""Header: hall name, clock and date, and the 中文/English switch."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from screens.context import RenderContext

_WEEKDAYS = {
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


class Header(QWidget):
    language_toggled = Signal()
    help_requested = Signal()
    elder_toggled = Signal()
    voice_repeat = Signal()

    def __init__(self, now: Callable[[], datetime] = datetime.now) -> None:
        super().__init__()
        self.setObjectName("header")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._now = now
        self._lang = "zh"
        self.hall_name = QLabel(objectName="hallName")
        self.hall_name_sub = QLabel(objectName="hallNameSub")
        self.clock = QLabel(objectName="clock")
        self.date = QLabel(objectName="date")
        self.language_switch = QPushButton(objectName="languageSwitch")
        self.language_switch.clicked.connect(self.language_toggled)
        self.help = QPushButton(objectName="helpButton")  # on every screen: where a person is
        self.help.clicked.connect(self.help_requested)
        self.elder = QPushButton(objectName="elderSwitch")  # 长辈模式, one tap from every screen
        self.elder.clicked.connect(self.elder_toggled)
        self.repeat = QPushButton(objectName="voiceRepeat")  # hear this screen's prompt again
        self.repeat.clicked.connect(self.voice_repeat)
        self.repeat.hide()

        # Two lines in a 96 px bar: no spacing between them, 4 px above and below.
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.hall_name)
        names.addWidget(self.hall_name_sub)
        when = QVBoxLayout()
        when.setSpacing(0)
        when.addWidget(self.clock)
        when.addWidget(self.date)
        row = QHBoxLayout(self)
        row.setContentsMargins(32, 4, 32, 4)
        row.addLayout(names, 1)
        row.addLayout(when)
        row.addSpacing(40)
        row.addWidget(self.repeat)
        row.addSpacing(16)
        row.addWidget(self.elder)
        row.addSpacing(16)
        row.addWidget(self.help)
        row.addSpacing(16)
        row.addWidget(self.language_switch)

        self._timer = QTimer(self, interval=1000, timeout=self._update_clock)
        self._timer.start()

    def render(self, ctx: RenderContext, elder: bool = False) -> None:
        self._lang = ctx.lang
        other = "en" if ctx.lang == "zh" else "zh"
        self.hall_name.setText(ctx.config.hall_name(ctx.lang))
        self.hall_name_sub.setText(ctx.config.hall_name(other))
        self.language_switch.setText(ctx.tr("header.switch_language"))
        self.help.setText(ctx.tr("help.button"))
        self.elder.setText(ctx.tr("elder.off" if elder else "elder.on"))
        self.repeat.setText(ctx.tr("voice.repeat"))
        self.repeat.setVisible(ctx.voice is not None)
        # Elder mode: only what is needed, large — the second-language hall name, the clock and
        # the date go (the four buttons at elder size need the room).
        self.hall_name_sub.setVisible(not elder)
        self.clock.setVisible(not elder)
        self.date.setVisible(not elder)
        self.language_switch.setVisible(len(ctx.config.terminal.languages) > 1)
        self._update_clock()

    def _update_clock(self) -> None:
        now = self._now()
        self.clock.setText(now.strftime("%H:%M:%S"))
        weekday = _WEEKDAYS[self._lang][now.weekday()]
        if self._lang == "zh":
            self.date.setText(f"{now.year}年{now.month}月{now.day}日 {weekday}")
        else:
            self.date.setText(f"{weekday}, {now.strftime('%d %b %Y')}")
