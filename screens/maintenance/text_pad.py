"""On-screen text keyboard for staff notes: the kiosk has no physical keyboard and no IME.

Latin letters, digits and a few marks only: the stored words must read the same
on any terminal and in any log viewer.  Chinese wording comes from the preset
phrases the pages offer beside it, not from typing.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

from screens.context import RenderContext, set_role

_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl-", "zxcvbnm.,_")
ALL_CHARACTERS = "".join(_ROWS) + " "


class TextPad(QWidget):
    text_changed = Signal(str)  # the whole text after every key

    def __init__(self, allowed: str | None = None, max_len: int = 120) -> None:
        super().__init__()
        self._allowed = set(allowed if allowed is not None else ALL_CHARACTERS)
        self._max_len = max_len
        self._text = ""
        grid = QGridLayout(self)
        grid.setSpacing(8)
        grid.setContentsMargins(0, 0, 0, 0)
        self.keys: dict[str, QPushButton] = {}
        for row, characters in enumerate(_ROWS):
            for column, character in enumerate(characters):
                if character in self._allowed:
                    self._key(grid, character, character, row, column)
        last = len(_ROWS)
        if " " in self._allowed:
            self._key(grid, "space", " ", last, 0, span=6)
        self._key(grid, "backspace", None, last, 6, span=2)
        self._key(grid, "clear", None, last, 8, span=2)

    def _key(self, grid: QGridLayout, name: str, character: str | None, row: int, column: int,
             span: int = 1) -> None:
        button = set_role(QPushButton(character or ""), "maintKey")
        button.setObjectName(f"textKey_{name}")
        if character is not None:
            button.clicked.connect(lambda _=False, c=character: self._type(c))
        elif name == "backspace":
            button.clicked.connect(lambda: self.set_text(self._text[:-1]))
        else:
            button.clicked.connect(self.clear)
        grid.addWidget(button, row, column, 1, span)
        self.keys[name] = button

    def _type(self, character: str) -> None:
        if len(self._text) < self._max_len:
            self.set_text(self._text + character)

    def render(self, ctx: RenderContext) -> None:
        self.keys["backspace"].setText(ctx.tr("keypad.backspace"))
        self.keys["clear"].setText(ctx.tr("keypad.clear"))
        if "space" in self.keys:
            self.keys["space"].setText(ctx.tr("maint.textpad.space"))

    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        text = "".join(c for c in text if c in self._allowed)[: self._max_len]
        if text != self._text:
            self._text = text
            self.text_changed.emit(text)

    def clear(self) -> None:
        self.set_text("")

    def wipe(self) -> None:
        self.clear()
