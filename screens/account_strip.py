"""The line that says whose bill is being paid: utility, masked account number, masked holder.

Every payment screen shows it under the title (the layout grammar in the
README), so a customer never pays without seeing which account it goes to.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from contract.masking import mask_account
from kiosk.journey_state import JourneyState
from screens.context import RenderContext, set_role


class AccountStrip(QLabel):
    def __init__(self) -> None:
        super().__init__(alignment=Qt.AlignmentFlag.AlignCenter)
        set_role(self, "accountStrip")

    def render(self, ctx: RenderContext, state: JourneyState) -> None:
        account = state.account
        offer = state.top_up.offer if state.top_up is not None else None
        if offer is not None and account is None:  # a card's top-up: the card says whose it is
            self.setText("  ·  ".join((ctx.utility_name(offer.reading.utility),
                                       ctx.tr("strip.account", account=offer.account_masked))))
            return
        if account is None:
            self.clear()
            return
        parts = [ctx.utility_name(state.utility_id or account.utility),
                 ctx.tr("strip.account", account=mask_account(account.account_no))]
        if account.holder_masked:
            parts.append(ctx.tr("strip.holder", holder=account.holder_masked))
        self.setText("  ·  ".join(parts))
