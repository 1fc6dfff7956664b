"""The out-of-order sign (故障标示): full screen, both languages, a code and the hotline.

It is signage, not a step: it shows Chinese and English together whatever the
language switch says, so nobody walks up, taps and waits.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.service_level import ServiceLevel
from kiosk.i18n import Translator
from screens.context import RenderContext


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

    def wipe(self) -> None:
        """The sign holds nothing of a customer."""
