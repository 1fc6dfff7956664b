"""Previous / "page N of M" / Next under a list of the maintenance screen (names, staff, history)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton


def show_paging(previous: QPushButton, following: QPushButton, label: QLabel, page: int, pages: int,
                words: tuple[str, str, str], enabled: bool = True) -> None:
    """``page`` counts from 0; ``words``: the previous button's, the next button's and the label's text.
    Shown only when there is more than one page."""
    for widget in (previous, following, label):
        widget.setVisible(pages > 1)
    previous.setText(words[0])
    following.setText(words[1])
    label.setText(words[2])
    previous.setEnabled(page > 0 and enabled)
    following.setEnabled(page < pages - 1 and enabled)
