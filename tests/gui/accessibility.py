"""What a person at the machine can read and touch, measured on the rendered window.

:func:`check_window` looks at every visible widget of a kiosk window and its
rendered pixels and returns the :class:`Violation` s of the floors below —
the issue's accessibility rules, in pixels of the kiosk's panel (21.5" at
1920x1080: 102.5 px per inch, so 1 pt = 1.42 px).

* contrast of text against what is behind it, from the pixels (WCAG 2.x
  relative luminance): 4.5:1, 7:1 in elder mode;
* every enabled button at least 60x60 px (80 in elder mode) and 8 px from the next;
* no text smaller than 20 px (14 pt) — 26 px (18 pt, MIIT body text) in elder mode;
* no text cut off by its widget, no two texts over each other;
* no raw code or untranslated key where a customer reads (the technician's
  small print — role ``code``, the out-of-order sign's code, the maintenance
  screen — is allowed one);
* a disabled button drawn differently from the same button enabled;
* every enabled button set apart from what is around it — its border or its
  fill against the pixels just outside it — by at least 3:1 (WCAG 1.4.11).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QFontMetrics, QImage
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

PX_PER_PT = 102.5 / 72
TEXT_CONTRAST = {False: 4.5, True: 7.0}
TARGET_PX = {False: 60, True: 80}
TARGET_GAP_PX = 8
TEXT_PX = {False: 20, True: 26}
CONTROL_EDGE_CONTRAST = 3.0
# Disabled and enabled must differ by at least this contrast between their fills or their texts.
DISABLED_DIFFERENCE = 1.3
RAW_CODE = re.compile(r"\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b|\bE-[A-Z]{2,}-\w+|\[[a-z_]+(?:\.[a-z_0-9]+)+\]")
TECHNICIAN_ROLES = frozenset({"code"})
TECHNICIAN_NAMES = frozenset({"outOfOrderCode"})


@dataclass(frozen=True)
class Violation:
    kind: str
    widget: str
    measured: float
    floor: float

    def __str__(self) -> str:
        return f"{self.kind}: {self.widget} — {self.measured:.2f} (floor {self.floor:g})"


def luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_of(widget: QWidget) -> str:
    if isinstance(widget, (QLabel, QAbstractButton)):
        return widget.text()
    return ""


def describe(widget: QWidget) -> str:
    text = text_of(widget).replace("\n", " ")
    text = text if len(text) <= 24 else text[:23] + "…"
    name = widget.objectName() or widget.property("role") or ""
    return f"{type(widget).__name__}[{name}] {text!r}"


def visible_widgets(window: QWidget) -> list[QWidget]:
    """Widgets a person can see: shown, inside the window, on the current page of every stack —
    and when an overlay card (help, idle prompt) is up, only what is on it."""
    bounds = window.rect()
    shown = [w for w in window.findChildren(QWidget)
             if w.isVisibleTo(window) and w.isVisible() and w.width() > 0 and w.height() > 0
             and bounds.intersects(QRect(w.mapTo(window, QPoint(0, 0)), w.size()))]
    overlays = [w for w in shown if w.objectName() == "idleShade"]
    if overlays:
        return [w for w in shown if any(overlay.isAncestorOf(w) for overlay in overlays)]
    return shown


def rect_in(window: QWidget, widget: QWidget, rect: QRect | None = None) -> QRect:
    rect = rect or widget.rect()
    return QRect(widget.mapTo(window, rect.topLeft()), rect.size())


def text_contrast(image: QImage, rect: QRect) -> float | None:
    """Background: the most common colour in ``rect``; text: the pixel farthest from it."""
    rect = rect.intersected(image.rect())
    if rect.width() < 2 or rect.height() < 2:
        return None
    step = 1 if rect.width() * rect.height() < 40_000 else 2
    colors = Counter(image.pixel(x, y) for y in range(rect.top(), rect.bottom() + 1, step)
                     for x in range(rect.left(), rect.right() + 1, step))
    background = QColor.fromRgb(colors.most_common(1)[0][0])
    return max(contrast(QColor.fromRgb(rgb), background) for rgb in colors)


def text_px(widget: QWidget) -> float:
    """The widget's text size in pixels, whether its font was given in pixels or points."""
    font = widget.font()
    return font.pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * PX_PER_PT


def text_rect(widget: QWidget) -> QRect:
    """Where the text is drawn: a button's label in its middle, a label's whole contents."""
    if isinstance(widget, QAbstractButton):
        metrics = QFontMetrics(widget.font())
        lines = widget.text().split("\n")
        width = max(metrics.horizontalAdvance(line) for line in lines)
        height = metrics.height() * len(lines)
        inner = widget.rect()
        return QRect(inner.center().x() - width // 2, inner.center().y() - height // 2, width, height)
    return widget.contentsRect()


def check_window(window: QWidget, image: QImage, *, elder: bool = False) -> list[Violation]:
    widgets = visible_widgets(window)
    texts = [w for w in widgets if text_of(w).strip()]
    found: list[Violation] = []
    for widget in texts:
        found += _check_text(window, image, widget, elder)
    found += _check_targets(window, [w for w in widgets if isinstance(w, QAbstractButton) and w.isEnabled()], elder)
    found += _check_overlaps(window, texts)
    found += _check_disabled(window, [w for w in widgets if isinstance(w, QAbstractButton) and not w.isEnabled()])
    found += _check_edges(window, image, [w for w in widgets if isinstance(w, QAbstractButton) and w.isEnabled()])
    return found


def _check_edges(window: QWidget, image: QImage, buttons: list[QAbstractButton]) -> list[Violation]:
    found = []
    for button in buttons:
        ratio = edge_contrast(image, rect_in(window, button))
        if ratio is not None and ratio < CONTROL_EDGE_CONTRAST:
            found.append(Violation("control edge contrast", describe(button), ratio, CONTROL_EDGE_CONTRAST))
    return found


def edge_contrast(image: QImage, rect: QRect) -> float | None:
    """The button's edge (a 3 px band inside it: its border, or its fill) against the 3 px just outside it."""
    outside = _band(image, rect.adjusted(-3, -3, 3, 3), rect)
    inside = _band(image, rect, rect.adjusted(3, 3, -3, -3))
    if not outside or not inside:
        return None
    around = QColor.fromRgb(Counter(outside).most_common(1)[0][0])
    return max(contrast(QColor.fromRgb(rgb), around) for rgb in set(inside))


def _band(image: QImage, outer: QRect, inner: QRect) -> list[int]:
    """The pixels of ``outer`` that are not in ``inner`` and lie on the image, along the four sides' middles
    (a rounded corner is neither border nor background)."""
    pixels = []
    bounds = image.rect()
    cx, cy = outer.center().x(), outer.center().y()
    half_w, half_h = max(1, outer.width() // 4), max(1, outer.height() // 4)
    for y in range(outer.top(), outer.bottom() + 1):
        for x in list(range(cx - half_w, cx + half_w)) if (y < inner.top() or y > inner.bottom()) else ():
            if bounds.contains(x, y):
                pixels.append(image.pixel(x, y))
    for x in range(outer.left(), outer.right() + 1):
        if inner.left() <= x <= inner.right():
            continue
        for y in range(cy - half_h, cy + half_h):
            if bounds.contains(x, y):
                pixels.append(image.pixel(x, y))
    return pixels


def _on_staff_screen(widget: QWidget) -> bool:
    """The maintenance screen is read by technicians: reason codes are what they look up."""
    while widget is not None:
        if widget.objectName() == "maintRoot":
            return True
        widget = widget.parentWidget()
    return False


def _check_text(window: QWidget, image: QImage, widget: QWidget, elder: bool) -> list[Violation]:
    found = []
    where = describe(widget)
    ratio = text_contrast(image, rect_in(window, widget, text_rect(widget)))
    if ratio is not None and ratio < TEXT_CONTRAST[elder]:
        found.append(Violation("contrast", where, ratio, TEXT_CONTRAST[elder]))
    size = text_px(widget)
    if size < TEXT_PX[elder]:
        found.append(Violation("text size px", where, size, TEXT_PX[elder]))
    technician = (widget.property("role") in TECHNICIAN_ROLES or widget.objectName() in TECHNICIAN_NAMES
                  or _on_staff_screen(widget))
    if not technician and RAW_CODE.search(text_of(widget)):
        found.append(Violation("raw code or key", where, 0, 0))
    if isinstance(widget, QLabel) and _clipped(widget):
        found.append(Violation("clipped text", where, 0, 0))
    return found


def _clipped(label: QLabel) -> bool:
    """Ink cut off: wider than the label, or (one line) its glyphs taller than the label's inside."""
    inner = label.contentsRect()
    if label.wordWrap():
        return label.heightForWidth(label.width()) > label.height() + 1
    metrics = QFontMetrics(label.font())
    lines = label.text().split("\n")
    too_wide = max(metrics.horizontalAdvance(line) for line in lines) > inner.width() + 1
    ink = max(metrics.tightBoundingRect(line).height() for line in lines) * len(lines)
    return too_wide or ink > inner.height()


def _check_targets(window: QWidget, buttons: list[QAbstractButton], elder: bool) -> list[Violation]:
    found = []
    rects = [(button, rect_in(window, button)) for button in buttons]
    for button, rect in rects:
        side = min(rect.width(), rect.height())
        if side < TARGET_PX[elder]:
            found.append(Violation("target px", describe(button), side, TARGET_PX[elder]))
    for index, (button, rect) in enumerate(rects):
        for other, other_rect in rects[index + 1:]:
            gap = _gap(rect, other_rect)
            if gap < TARGET_GAP_PX:
                found.append(Violation("target gap px", f"{describe(button)} / {describe(other)}", gap,
                                       TARGET_GAP_PX))
    return found


def _gap(a: QRect, b: QRect) -> int:
    dx = max(b.left() - a.right() - 1, a.left() - b.right() - 1, 0)
    dy = max(b.top() - a.bottom() - 1, a.top() - b.bottom() - 1, 0)
    return max(dx, dy)


def _check_overlaps(window: QWidget, texts: list[QWidget]) -> list[Violation]:
    found = []
    rects = [(w, rect_in(window, w, text_rect(w))) for w in texts]
    for index, (widget, rect) in enumerate(rects):
        for other, other_rect in rects[index + 1:]:
            if widget.isAncestorOf(other) or other.isAncestorOf(widget) or widget.window() is not other.window():
                continue
            if _on_different_layers(window, widget, other):
                continue
            overlap = rect.intersected(other_rect)
            if overlap.width() > 2 and overlap.height() > 2:
                found.append(Violation("overlapping text", f"{describe(widget)} / {describe(other)}",
                                       overlap.width() * overlap.height(), 0))
    return found


def _on_different_layers(window: QWidget, a: QWidget, b: QWidget) -> bool:
    """An overlay card (help, idle prompt) is meant to lie over the step under it."""
    def overlay(widget: QWidget) -> QWidget | None:
        while widget is not None and widget is not window:
            if widget.objectName() == "idleShade":
                return widget
            widget = widget.parentWidget()
        return None
    return overlay(a) is not overlay(b)


def _check_disabled(window: QWidget, buttons: list[QAbstractButton]) -> list[Violation]:
    found = []
    for button in buttons:
        disabled = button.grab().toImage()
        button.setEnabled(True)
        enabled = button.grab().toImage()
        button.setEnabled(False)
        difference = max(_dominant_difference(disabled, enabled), _text_difference(disabled, enabled))
        if difference < DISABLED_DIFFERENCE:
            found.append(Violation("disabled looks enabled", describe(button), difference, DISABLED_DIFFERENCE))
    return found


def _dominant(image: QImage) -> QColor:
    colors = Counter(image.pixel(x, y) for y in range(0, image.height(), 2) for x in range(0, image.width(), 2))
    return QColor.fromRgb(colors.most_common(1)[0][0])


def _dominant_difference(a: QImage, b: QImage) -> float:
    return contrast(_dominant(a), _dominant(b))


def _text_difference(a: QImage, b: QImage) -> float:
    def ink(image: QImage) -> QColor:
        background = _dominant(image)
        pixels = {image.pixel(x, y) for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)}
        return max((QColor.fromRgb(p) for p in pixels), key=lambda c: contrast(c, background))
    return contrast(ink(a), ink(b))


@dataclass
class Extremes:
    """The worst figures met over many screens: the lowest contrast, the smallest target and text."""

    contrast: float = float("inf")
    target_px: float = float("inf")
    text_px: float = float("inf")
    screens: int = 0

    def add(self, window: QWidget, image: QImage) -> None:
        self.screens += 1
        widgets = visible_widgets(window)
        for widget in widgets:
            if text_of(widget).strip():
                ratio = text_contrast(image, rect_in(window, widget, text_rect(widget)))
                if ratio is not None:
                    self.contrast = min(self.contrast, ratio)
                self.text_px = min(self.text_px, text_px(widget))
            if isinstance(widget, QAbstractButton) and widget.isEnabled():
                self.target_px = min(self.target_px, min(widget.width(), widget.height()))

    def __str__(self) -> str:
        return (f"{self.screens} screens: lowest text contrast {self.contrast:.1f}:1, smallest target "
                f"{self.target_px:.0f} px, smallest text {self.text_px:.0f} px")
