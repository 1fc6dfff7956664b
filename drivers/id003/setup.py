"""The acceptor's identity (version, currency table) and its settings (which notes, inhibit).

Spec ID03-001E 6-5, 6-6: while the acceptor reports INITIALIZE, DISABLED or
IDLING the controller reads the version (88h) and the currency assign table
(8Ah, four bytes per denomination: escrow code, country code, base,
exponent), then sends the setting commands (C0h denominations, C1h
security, C4h direction, C5h optional functions, C3h inhibit), each of which
the acceptor echoes.  After that only the denominations and the inhibit are
kept in line with what the kiosk asked for, judged by the acceptor's status.

The steps that talk to the acceptor are generators over the protocol's
``exchange`` (each ``yield from exchange(frame)`` is one command and its
reply, or None): no I/O here, and the clock is the protocol's ``now``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Generator

from drivers.id003 import codec
from drivers.id003.codec import Command, Status, StatusReply
from drivers.id003.events import AcceptorEvent, AcceptorReady

log = logging.getLogger("kiosk.devices.acceptor")

CNY_NOTES_FEN = (100, 500, 1000, 2000, 5000, 10000)  # ¥1, 5, 10, 20, 50, 100
IDENTITY_RETRY_S = 2.0  # how often to ask again for a currency table the acceptor refused
SETTING_RETRY_S = 0.3  # min. time between two attempts to fix enable/inhibit
REQUIRED_SETTINGS = (Command.SET_DENOMINATIONS, Command.SET_INHIBIT)

Exchange = Callable[[bytes], Generator[object, object, "codec.Reply | None"]]


@dataclass(frozen=True)
class Intake:
    """What the kiosk asked for: take notes or not, and of which denominations (fen)."""

    enabled: bool = False
    accepted_fen: frozenset[int] = frozenset()

    def takes(self, fen: int) -> bool:
        return self.enabled and fen in self.accepted_fen


def cny_table(reply: codec.CurrencyAssignment, country_code: int | None) -> dict[int, int]:
    """Escrow code → fen for the CNY notes in an 8Ah answer; other values are logged and left out."""
    table = {}
    for entry in reply.entries:
        if country_code is not None and entry.country_code != country_code:
            continue
        fen = entry.value * 100
        if fen in CNY_NOTES_FEN:
            table[entry.escrow_code] = fen
        elif entry.value:
            log.warning("acceptor currency table: escrow code %02Xh worth %d is not a CNY note; ignored",
                        entry.escrow_code, entry.value)
    return table


class AcceptorSetup:
    """Identity and settings of one acceptor, as far as this controller knows them."""

    def __init__(self, exchange: Exchange, now: Callable[[], float], emit: Callable[[AcceptorEvent], None],
                 intake: Callable[[], Intake], override_table: dict[int, int] | None,
                 country_code: int | None) -> None:
        self._exchange = exchange
        self._now = now
        self._emit = emit
        self._intake = intake
        self._override_table = dict(override_table) if override_table is not None else None
        self._country_code = country_code
        self.table: dict[int, int] | None = None
        self.version: str | None = None
        self.identity_failures = 0
        self._need_identity = True
        self._identity_tried_at = float("-inf")
        self._ready_announced = False
        self._settings_applied = False
        self._applied_bits: bytes | None = None
        self._inhibit_tried_at = float("-inf")

    def forget(self, *, powered_up: bool) -> None:
        """A reconnect (maybe another acceptor) or a power up: read it again and send the settings again."""
        self._need_identity = True
        self._settings_applied = False
        if powered_up:
            self._ready_announced = False  # announce again once re-initialised
        else:
            self.identity_failures = 0

    def ensure_identity(self):
        """Read version and currency table, unless known (or refused less than a while ago)."""
        now = self._now()
        wait = IDENTITY_RETRY_S if self.identity_failures else 0
        if not self._need_identity or now - self._identity_tried_at < wait:
            return
        self._identity_tried_at = now
        version = yield from self._exchange(codec.request(Command.GET_VERSION))
        if isinstance(version, codec.VersionInfo):
            self.version = version.text
        table = self._override_table
        if table is None:
            reply = yield from self._exchange(codec.request(Command.GET_CURRENCY_ASSIGN))
            table = cny_table(reply, self._country_code) if isinstance(reply, codec.CurrencyAssignment) else None
        if not table:
            self.identity_failures += 1
            log.warning("acceptor currency table not available (attempt %d)", self.identity_failures)
            return
        changed = table != self.table
        self.table = table
        self._need_identity = False
        self.identity_failures = 0
        if changed or not self._ready_announced:
            self._ready_announced = True
            self._emit(AcceptorReady(self.version or "", tuple(sorted(set(table.values())))))

    def reconcile(self, status: Status):
        """Make the acceptor's enable/inhibit match what the kiosk asked, judged by its status."""
        if self.table is None:
            if status is Status.IDLING:  # never take notes we could not value
                yield from self._apply(Command.SET_INHIBIT, codec.inhibit_data(True))
            return
        want, bits = self._wanted()
        if not self._settings_applied:
            settings = ((Command.SET_DENOMINATIONS, bits), (Command.SET_SECURITY, b"\x00\x00"),
                        (Command.SET_DIRECTION, b"\x00"), (Command.SET_OPTIONAL_FUNCTION, b"\x00\x00"),
                        (Command.SET_INHIBIT, codec.inhibit_data(not want)))
            for command, data in settings:
                if not (yield from self._apply(command, data)):
                    return
            self._settings_applied = True
            self._applied_bits = bits
            return
        if status is Status.INITIALIZE:
            return
        if bits != self._applied_bits and (yield from self._apply(Command.SET_DENOMINATIONS, bits)):
            self._applied_bits = bits
        mismatch = (want and status is Status.DISABLED) or (not want and status is Status.IDLING)
        now = self._now()
        if mismatch and now - self._inhibit_tried_at >= SETTING_RETRY_S:
            self._inhibit_tried_at = now
            yield from self._apply(Command.SET_INHIBIT, codec.inhibit_data(not want))

    def _wanted(self) -> tuple[bool, bytes]:
        intake = self._intake()
        codes = {code for code, fen in (self.table or {}).items() if intake.takes(fen)}
        want = intake.enabled and bool(codes)
        return want, codec.denomination_bits(codes if want else set())

    def _apply(self, command: Command, data: bytes):
        reply = yield from self._exchange(codec.setting(command, data))
        if isinstance(reply, codec.SettingEcho) and reply.command is command and reply.data == data:
            return True
        if command not in REQUIRED_SETTINGS and isinstance(reply, StatusReply) \
                and reply.status is Status.INVALID_COMMAND:
            return True  # an optional setting this model does not have
        log.info("acceptor did not echo %s %s (got %r)", command.name, data.hex(), reply)
        return False
