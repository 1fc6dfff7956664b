"""On-screen numeric keypad: the kiosk never opens the system keyboard."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

from screens.context import RenderContext

_LAYOUT = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ("clear", "0", "backspace"))


class Keypad(QWidget):
    digit_pressed = Signal(str)
    backspace_pressed = Signal()
    clear_pressed = Signal()

    def __init__(self) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setSpacing(14)
        self.keys: dict[str, QPushButton] = {}
        for row, keys in enumerate(_LAYOUT):
            for column, key in enumerate(keys):
                button = QPushButton(objectName="keypadKey" if key.isdigit() else "keypadAction")
                if key.isdigit():
                    button.setText(key)
                    button.clicked.connect(lambda _=False, d=key: self.digit_pressed.emit(d))
                grid.addWidget(button, row, column)
                self.keys[key] = button
        self.keys["backspace"].clicked.connect(self.backspace_pressed)
        self.keys["clear"].clicked.connect(self.clear_pressed)

    def render(self, ctx: RenderContext) -> None:
        self.keys["backspace"].setText(ctx.tr("keypad.backspace"))
        self.keys["clear"].setText(ctx.tr("keypad.clear"))
