"""Long lists on a touch screen come in pages with Previous / Next, never a scroll bar to drag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PageOf:
    first: int  # index of the first item shown
    page: int  # 0-based, clamped into range
    pages: int  # at least 1, even for an empty list

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page < self.pages - 1


def page_of(count: int, page: int, per_page: int) -> PageOf:
    pages = max(1, -(-count // per_page))
    page = min(max(page, 0), pages - 1)
    return PageOf(page * per_page, page, pages)


def items_on(items: Sequence[T], where: PageOf, per_page: int) -> tuple[T, ...]:
    return tuple(items[where.first: where.first + per_page])
