"""What the kiosk offers now: the one type every part of it speaks (screens render it).

Nothing (the out-of-order sign, with a reason code and a technician's
detail), or inquiry plus whichever of cash, slip and card services the
devices, the money journal and the billing system allow; ``scan`` says
whether a scanner is fitted and reads (the customer's payment code, 被扫).  When cash is not
offered, ``cash_off_key`` names the message that tells the customer why.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceLevel:
    in_service: bool = True
    reason_code: str = ""  # on the out-of-order sign: E-NET-01, E-ACC-JAM_IN_ACCEPTOR, ...
    detail: str = ""  # the technician's words for it
    cash: bool = True
    slip: bool = True
    card: bool = True
    card_reader_fitted: bool = True
    # Off unless a fitted scanner reports well: a level nobody derived from a scanner offers no 被扫.
    # Not part of ``degraded``: nothing offers 被扫 yet, and a machine without it still serves in full.
    scan: bool = False
    cash_off_key: str = ""  # i18n key: why cash is not offered ("" when it is)

    @property
    def out_of_order(self) -> bool:
        return not self.in_service

    @property
    def degraded(self) -> bool:
        return self.in_service and not (self.cash and self.slip and (self.card or not self.card_reader_fitted))

    @property
    def terminal_status(self) -> str:
        """The heartbeat's word for it (docs/api.md, heartbeat)."""
        return "out_of_service" if not self.in_service else "degraded" if self.degraded else "in_service"


def out_of_order(reason_code: str, detail: str) -> ServiceLevel:
    """The sign: nothing is offered."""
    return ServiceLevel(False, reason_code, detail, cash=False, slip=False, card=False)
