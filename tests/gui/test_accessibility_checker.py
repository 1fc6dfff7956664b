"""The accessibility checker finds each thing it is for: a window built with one fault at a time."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from gui.accessibility import check_window

GOOD_LABEL = "font-size: 28px; color: #1a1a1a; background: white;"
GOOD_BUTTON = "font-size: 28px; color: white; background: #0b5394; border: none;"


def window_with(*children: tuple[QWidget, tuple[int, int, int, int]]) -> QWidget:
    window = QWidget()
    window.resize(800, 600)
    window.setStyleSheet("QWidget { background: white; }")
    for child, (x, y, w, h) in children:
        child.setParent(window)
        child.setGeometry(x, y, w, h)
    window.show()
    return window


def label(text: str, style: str = GOOD_LABEL) -> QLabel:
    made = QLabel(text)
    made.setStyleSheet(style)
    return made


def button(text: str, style: str = GOOD_BUTTON) -> QPushButton:
    made = QPushButton(text)
    made.setStyleSheet(style)
    return made


def kinds(window: QWidget, *, elder: bool = False) -> set[str]:
    return {violation.kind for violation in check_window(window, window.grab().toImage(), elder=elder)}


def test_a_plain_readable_screen_has_no_violation(qapp):
    window = window_with((label("请输入户号"), (20, 20, 400, 60)), (button("确认"), (20, 120, 200, 90)))
    assert kinds(window) == set()


def test_grey_text_on_white_is_too_little_contrast(qapp):
    window = window_with((label("请输入户号", "font-size: 28px; color: #b0b0b0; background: white;"),
                          (20, 20, 400, 60)))
    assert kinds(window) == {"contrast"}


def test_contrast_enough_for_standard_is_not_enough_for_elder_mode(qapp):
    # #6a6a6a on white is about 5.4:1: above 4.5, below 7.
    window = window_with((label("请输入户号", "font-size: 28px; color: #6a6a6a; background: white;"),
                          (20, 20, 400, 60)))
    assert "contrast" not in kinds(window)
    assert "contrast" in kinds(window, elder=True)


def test_a_small_button_and_buttons_too_close_are_found(qapp):
    window = window_with((button("1"), (20, 20, 40, 40)), (button("2"), (200, 20, 100, 90)),
                         (button("3"), (303, 20, 100, 90)))
    assert kinds(window) == {"target px", "target gap px"}


def test_small_text_is_found(qapp):
    window = window_with((label("小字", "font-size: 14px; color: black; background: white;"), (20, 20, 200, 40)))
    assert kinds(window) == {"text size px"}


@pytest.mark.parametrize("text", ["ACCOUNT_NOT_FOUND", "E-ACC-JAM_IN_ACCEPTOR", "[paid.title]"])
def test_a_raw_code_or_an_untranslated_key_is_found_where_a_customer_reads(qapp, text):
    window = window_with((label(text), (20, 20, 700, 60)))
    assert kinds(window) == {"raw code or key"}


def test_the_technicians_code_in_small_print_is_allowed(qapp):
    code = label("E-ACC-JAM_IN_ACCEPTOR")
    code.setProperty("role", "code")
    window = window_with((code, (20, 20, 700, 60)))
    assert kinds(window) == set()


def test_text_cut_off_by_its_label_is_found(qapp):
    window = window_with((label("请将纸币平整放入识别器入口"), (20, 20, 120, 60)))
    assert kinds(window) == {"clipped text"}


def test_two_texts_over_each_other_are_found(qapp):
    window = window_with((label("应缴金额"), (20, 20, 300, 60)), (label("已投入"), (120, 40, 300, 60)))
    assert "overlapping text" in kinds(window)


def test_a_disabled_button_drawn_like_an_enabled_one_is_found(qapp):
    same = "QPushButton, QPushButton:disabled { font-size: 28px; color: white; background: #0b5394; }"
    look_alike = button("完成缴费", same)
    look_alike.setEnabled(False)
    greyed = button("完成缴费", same.replace("QPushButton, QPushButton:disabled", "QPushButton")
                    + " QPushButton:disabled { background: #c9d3de; color: #2a3a4a; }")
    greyed.setEnabled(False)
    assert "disabled looks enabled" in kinds(window_with((look_alike, (20, 20, 300, 90))))
    assert "disabled looks enabled" not in kinds(window_with((greyed, (20, 20, 300, 90))))


def test_a_button_set_apart_only_by_a_faint_border_is_found(qapp):
    faint = button("返回", "font-size: 28px; color: #0b5394; background: white; border: 2px solid #d0d6dc;")
    clear = button("返回", "font-size: 28px; color: #0b5394; background: white; border: 2px solid #6b7785;")
    assert "control edge contrast" in kinds(window_with((faint, (20, 20, 300, 90))))
    assert "control edge contrast" not in kinds(window_with((clear, (20, 20, 300, 90))))
