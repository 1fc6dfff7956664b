"""A QR code drawn on screen, for a customer to photograph when no slip can be printed.

The matrix comes from the ``qrcode`` package (error correction M, as on the
slip); the widget paints it square, black on white with the quiet zone of
four modules the standard asks for, at whole pixels per module so a phone
camera reads it.
"""

from __future__ import annotations

import qrcode
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

QUIET_ZONE_MODULES = 4


def qr_matrix(payload: str) -> list[list[bool]]:
    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(payload)
    code.make(fit=True)
    return code.get_matrix()


class QrCode(QWidget):
    def __init__(self, side_px: int = 220) -> None:
        super().__init__()
        self._side = side_px
        self._matrix: list[list[bool]] = []
        self.payload = ""
        self.setFixedSize(QSize(side_px, side_px))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_payload(self, payload: str) -> None:
        self.payload = payload
        self._matrix = qr_matrix(payload) if payload else []
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        if not self._matrix:
            return
        modules = len(self._matrix) + 2 * QUIET_ZONE_MODULES
        module = max(1, self._side // modules)
        offset = (self._side - module * len(self._matrix)) // 2
        black = QColor("black")
        for y, row in enumerate(self._matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(QRect(offset + x * module, offset + y * module, module, module), black)
