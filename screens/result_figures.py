"""The middle of a result screen: its figures as name/value rows, and beside them the QR code that
stands in for a slip the printer could not print (a bill payment's and a card top-up's alike)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout

from screens.context import set_role
from screens.qr_code import QrCode

ROWS = 7  # a top-up written with arrears settled has seven figures


class ResultFigures(QHBoxLayout):
    def __init__(self) -> None:
        super().__init__()
        self.rows = [(set_role(QLabel(), "fieldName"), set_role(QLabel(), "fieldValue")) for _ in range(ROWS)]
        self.qr = QrCode()
        self.qr_caption = set_role(QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True), "hint")
        self.qr_caption.setFixedWidth(300)
        fields = QGridLayout()
        fields.setHorizontalSpacing(40)
        for row, (name, value) in enumerate(self.rows):
            fields.addWidget(name, row, 0, Qt.AlignmentFlag.AlignRight)
            fields.addWidget(value, row, 1, Qt.AlignmentFlag.AlignLeft)
        qr = QVBoxLayout()
        qr.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)
        qr.addWidget(self.qr_caption)
        self.addStretch(1)
        self.addLayout(fields)
        self.addSpacing(60)
        self.addLayout(qr)
        self.addStretch(1)

    def set_rows(self, rows: list[tuple[str, str]]) -> None:
        """At most :data:`ROWS` (name, value) pairs, top down; the rest hidden."""
        for (name, value), (text_name, text_value) in zip(self.rows, rows + [("", "")] * ROWS):
            name.setText(text_name)
            value.setText(text_value)
            name.setVisible(bool(text_name))
            value.setVisible(bool(text_name))

    def show_code(self, payload: str, caption: str) -> None:
        """The number as a QR code to photograph (``payload`` "": a slip was printed, no code)."""
        self.qr.set_payload(payload)
        self.qr.setVisible(bool(payload))
        self.qr_caption.setText(caption)
        self.qr_caption.setVisible(bool(payload))

    def clear(self) -> None:
        for name, value in self.rows:
            name.clear()
            value.clear()
        self.qr.set_payload("")
