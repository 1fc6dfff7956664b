"""A page column of fixed width that asks for the height its words need at that width.

Shared by the device and repair pages of the maintenance screen: both lay two
fixed columns side by side in the shell's 1640x900 page.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QLayout, QVBoxLayout, QWidget


class FixedColumn(QWidget):
    """A column of fixed width whose height is what its words need *at that width*.

    A box layout asks a word-wrapped child for its height at widths the column
    never has, and the page then asks for more than the shell's 900 px; this
    column answers for its own width only."""

    def __init__(self, width: int, content: QWidget | QVBoxLayout) -> None:
        super().__init__()
        self.setFixedWidth(width)
        if isinstance(content, QWidget):
            content = _wrapped(content)
        content.setContentsMargins(0, 0, 0, 0)
        # Left to itself the layout would set this column's minimum height from
        # its words wrapped at its own minimum width, far narrower than ours.
        content.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setLayout(content)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # our height follows our words: the page lays us out again
        return super().event(event)

    def hasHeightForWidth(self) -> bool:
        return False

    def sizeHint(self) -> QSize:
        layout = self.layout()
        height = layout.heightForWidth(self.width()) if layout.hasHeightForWidth() else -1
        return QSize(self.width(), height if height >= 0 else layout.sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()  # nothing in it may be squeezed: words would be cut, buttons overlap


def _wrapped(widget: QWidget) -> QVBoxLayout:
    layout = QVBoxLayout()
    layout.addWidget(widget)
    return layout


def scrolling(column: QWidget) -> QWidget:
    """``column`` in a vertical scroll area: a day of faults with long details may need more than
    the page's 900 px, and a page taller than the glass would push the shell's bottom off it.
    Touch drags it (QScroller), as a finger expects."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFrame, QScrollArea, QScroller

    area = QScrollArea()
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    width = column.width()
    area.setFixedWidth(width)  # the page's grid stays as it was; the column gives the bar its room
    column.setFixedWidth(width - area.verticalScrollBar().sizeHint().width())
    area.setWidget(column)
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
    return area
