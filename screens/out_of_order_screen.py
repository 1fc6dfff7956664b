"""The out-of-order sign (故障标示): full screen, both languages, a code and the hotline.

It is signage, not a step: it shows Chinese and English together whatever the
language switch says, so nobody walks up, taps and waits.

Outside service hours (``E-HOURS-CLOSED``) the same sign says "closed", not
"fault": the next opening, the hotline, and the hours on the code line.  One
screen for both, because the code line is where a technician's hidden entry
is (the window watches it): a technician gets in on the closed sign too.
The ``sign`` property ("fault", "closed"), on the sign and its code line,
lets the style tell them apart.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.service_hours import REASON_HOURS_CLOSED, days_text, opening_in, opening_text
from kiosk.service_level import ServiceLevel
from kiosk.i18n import Translator
from screens.context import RenderContext, set_role


class OutOfOrderScreen(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("outOfOrder")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        center = Qt.AlignmentFlag.AlignCenter
        self.title_zh = QLabel(objectName="outOfOrderTitleZh", alignment=center)
        self.title_en = QLabel(objectName="outOfOrderTitleEn", alignment=center)
        self.text_zh = QLabel(objectName="outOfOrderText", alignment=center, wordWrap=True)
        self.text_en = QLabel(objectName="outOfOrderText", alignment=center, wordWrap=True)
        self.code = QLabel(objectName="outOfOrderCode", alignment=center)
        column = QVBoxLayout(self)
        column.setContentsMargins(120, 40, 120, 40)
        column.addStretch(1)
        for widget in (self.title_zh, self.title_en):
            column.addWidget(widget)
        column.addSpacing(50)
        column.addWidget(self.text_zh)
        column.addWidget(self.text_en)
        column.addSpacing(50)
        column.addWidget(self.code, 0, center)
        column.addStretch(1)

    def render(self, ctx: RenderContext, level: ServiceLevel) -> None:
        closed = level.reason_code == REASON_HOURS_CLOSED
        for widget in (self, self.code):  # the code line is styled on its own (kiosk.qss)
            set_role(widget, "sign", sign="closed" if closed else "fault")
        if closed:
            self._render_closed(ctx, level)
            return
        zh, en = Translator("zh"), Translator("en")
        hotline = ctx.config.terminal.hotline
        self.title_zh.setText(zh("out_of_order.title"))
        self.title_en.setText(en("out_of_order.title"))
        from kiosk.service_switch import SIGN_TEXT_KEYS

        # Out of service on purpose (maintenance open, a technician's decision) says so, not "a fault".
        text_key = SIGN_TEXT_KEYS.get(level.reason_code, "out_of_order.text")
        self.text_zh.setText(zh(text_key, hotline=hotline))
        self.text_en.setText(en(text_key, hotline=hotline))
        self.code.setText(
            f"{zh('out_of_order.code')} / {en('out_of_order.code')}: {level.reason_code}"
            f" · {ctx.config.terminal.id} · {ctx.config.hall_name('zh')}"
        )

    def _render_closed(self, ctx: RenderContext, level: ServiceLevel) -> None:
        hotline, hours = ctx.config.terminal.hotline, ctx.config.service_hours
        opening = opening_in(level.detail)
        for tr, title, text in ((Translator("zh"), self.title_zh, self.text_zh),
                                (Translator("en"), self.title_en, self.text_en)):
            title.setText(tr("hours.sign.title"))
            text.setText(tr("hours.sign.text", opening=opening_text(tr, opening), hotline=hotline)
                         if opening is not None else tr("hours.sign.text_no_opening", hotline=hotline))
        zh, en = Translator("zh"), Translator("en")
        self.code.setText(
            f"{zh('hours.sign.hours')} {hours.text()} {days_text(zh, hours.days)} / "
            f"{en('hours.sign.hours')} {hours.text()} {days_text(en, hours.days)}"
            f" · {level.reason_code} · {ctx.config.terminal.id}"
        )

    def wipe(self) -> None:
        """The sign holds nothing of a customer."""
