"""The errors of the card application: a file that breaks the layout, a command the card refused.

Its own module because both the generic APDU exchange (``apdu``) and the
application's file parsers (``card_app``) raise them, and the reader driver
classifies them; none of those should have to import the others for this.
"""

from __future__ import annotations

from drivers.pcsc.status_words import NOT_THIS_APPLICATION, sw_meaning


class CardAppError(Exception):
    """Something on the card is not what this application expects."""


class CardFormatError(CardAppError):
    """A file's content breaks the layout; ``field`` names the part at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class StatusWordError(CardAppError):
    """The card refused a command with a status word other than 9000."""

    def __init__(self, command: str, sw: int) -> None:
        super().__init__(f"{command}: card answered {sw:04X} ({sw_meaning(sw)})")
        self.command = command
        self.sw = sw

    @property
    def not_this_application(self) -> bool:
        """True when the card simply lacks our files: another kind of card."""
        return self.sw in NOT_THIS_APPLICATION
