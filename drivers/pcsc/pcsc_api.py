"""The PC/SC resource manager (pcsc-lite's pcscd) through pyscard, typed.

Three small objects mirror the PC/SC calls the driver makes (PC/SC Workgroup
specification part 5, "ICC Resource Manager Definition"; pcsc-lite's
``winscard.h``): a :class:`PcscSystem` establishes contexts, a
:class:`PcscContext` lists readers, waits for a reader's state to change
(``SCardGetStatusChange``) and connects to a card, a :class:`PcscCard`
transmits APDUs.  Every failure is a :class:`PcscError` carrying the PC/SC
return code and the call that failed, with properties that say what kind of
failure it is.  The in-process emulator (:mod:`drivers.pcsc.emulator`)
offers the same three objects.

pyscard's low-level ``smartcard.scard`` is used rather than its high-level
classes: its calls return codes instead of raising, and it does not have the
high-level traps (a ``CardRequest`` for a missing reader spins at full CPU
ignoring its timeout; ``CardMonitor`` swallows "service not available" in its
own thread).  It is imported on first use, so a machine without
``libpcsclite`` still runs the emulator.

One context is never shared between threads: pcsc-lite serialises calls on a
context, so a ``SCardTransmit`` blocked on a mute card would block every
other call made on the same context.
"""

from __future__ import annotations

from dataclasses import dataclass

# Return codes (pcsc-lite pcsclite.h; the same values as Windows' winerror.h).
SCARD_S_SUCCESS = 0x00000000
SCARD_E_CANCELLED = 0x80100002
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_F_COMM_ERROR = 0x80100013
SCARD_F_UNKNOWN_ERROR = 0x80100014
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069

# Reader state flags (SCARD_READERSTATE.dwEventState); the high 16 bits count events.
STATE_UNAWARE = 0x0000
STATE_CHANGED = 0x0002
STATE_UNKNOWN = 0x0004
STATE_UNAVAILABLE = 0x0008
STATE_EMPTY = 0x0010
STATE_PRESENT = 0x0020
STATE_MUTE = 0x0200

_SCOPE_USER = 0
_SHARE_SHARED = 2
_PROTOCOL_T0_OR_T1 = 0x1 | 0x2
_LEAVE_CARD = 0

_MESSAGES = {
    SCARD_E_CANCELLED: "the action was cancelled",
    SCARD_E_INVALID_HANDLE: "invalid handle",
    SCARD_E_UNKNOWN_READER: "unknown reader",
    SCARD_E_TIMEOUT: "timeout",
    SCARD_E_NO_SMARTCARD: "no card in the reader",
    SCARD_F_COMM_ERROR: "lost contact with the PC/SC service",
    SCARD_E_NOT_TRANSACTED: "transaction failed",
    SCARD_E_READER_UNAVAILABLE: "reader unavailable",
    SCARD_E_NO_SERVICE: "service not available",
    SCARD_E_SERVICE_STOPPED: "service stopped",
    SCARD_E_NO_READERS_AVAILABLE: "no readers available",
    SCARD_W_UNRESPONSIVE_CARD: "card is unresponsive",
    SCARD_W_UNPOWERED_CARD: "card is unpowered",
    SCARD_W_RESET_CARD: "card was reset",
    SCARD_W_REMOVED_CARD: "card was removed",
}


class PcscError(Exception):
    """A PC/SC call failed: ``code`` is its return code, ``call`` its name."""

    def __init__(self, code: int, call: str, message: str = "") -> None:
        self.code = code & 0xFFFFFFFF
        self.call = call
        self.message = message or _MESSAGES.get(self.code, "PC/SC error")
        super().__init__(f"{call}: {self.message} (0x{self.code:08X})")

    @property
    def service_down(self) -> bool:
        return self.code in (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED, SCARD_F_COMM_ERROR)

    @property
    def reader_gone(self) -> bool:
        return self.code in (SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE, SCARD_E_NO_READERS_AVAILABLE)

    @property
    def card_gone(self) -> bool:
        return self.code in (SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD, SCARD_W_RESET_CARD)

    @property
    def card_mute(self) -> bool:
        return self.code in (SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD)


@dataclass(frozen=True)
class ReaderState:
    """One reader's state as ``SCardGetStatusChange`` reports it."""

    flags: int
    atr: bytes = b""

    @property
    def known(self) -> int:
        """What to pass back as the current state in the next wait."""
        return self.flags & ~STATE_CHANGED

    @property
    def present(self) -> bool:
        return bool(self.flags & STATE_PRESENT)

    @property
    def mute(self) -> bool:
        return bool(self.flags & STATE_MUTE)

    @property
    def gone(self) -> bool:
        return bool(self.flags & (STATE_UNKNOWN | STATE_UNAVAILABLE))


def _scard():
    from smartcard import scard  # noqa: PLC0415 - needs libpcsclite; only the real reader does

    return scard


def _call(call: str, function, *args):
    """Run one scard function; pyscard raises SystemError on a stale handle."""
    try:
        result = function(*args)
    except (SystemError, TypeError, ValueError) as error:
        raise PcscError(SCARD_F_UNKNOWN_ERROR, call, f"pyscard: {error}") from None
    if isinstance(result, (list, tuple)):
        code, rest = result[0], list(result[1:])
    else:
        code, rest = result, []
    return code & 0xFFFFFFFF, rest


class PcscSystem:
    """The machine's pcscd."""

    def establish(self) -> "PcscContext":
        try:
            scard = _scard()
        except (ImportError, OSError) as error:  # pyscard or libpcsclite.so.1 missing
            raise PcscError(SCARD_E_NO_SERVICE, "SCardEstablishContext",
                            f"PC/SC library not available ({error})") from None
        code, rest = _call("SCardEstablishContext", scard.SCardEstablishContext, _SCOPE_USER)
        if code != SCARD_S_SUCCESS:
            raise PcscError(code, "SCardEstablishContext")
        return PcscContext(rest[0])


class PcscContext:
    """One ``SCARDCONTEXT``; use it from one thread only (``cancel`` excepted)."""

    def __init__(self, handle) -> None:
        self._handle = handle
        self._scard = _scard()

    def list_readers(self) -> list[str]:
        code, rest = _call("SCardListReaders", self._scard.SCardListReaders, self._handle, [])
        if code == SCARD_E_NO_READERS_AVAILABLE:
            return []
        if code != SCARD_S_SUCCESS:
            raise PcscError(code, "SCardListReaders")
        return list(rest[0])

    def wait_change(self, reader: str, known: int, timeout_s: float) -> ReaderState:
        """The reader's state once it differs from ``known``, or after ``timeout_s``."""
        code, rest = _call("SCardGetStatusChange", self._scard.SCardGetStatusChange, self._handle,
                           max(0, int(timeout_s * 1000)), [(reader, known)])
        if code in (SCARD_E_TIMEOUT, SCARD_E_CANCELLED):
            return ReaderState(known)
        if code != SCARD_S_SUCCESS:
            raise PcscError(code, "SCardGetStatusChange")
        _name, flags, atr = rest[0][0]
        return ReaderState(flags & 0xFFFFFFFF, bytes(atr))

    def cancel(self) -> None:
        """Wake a ``wait_change`` blocked in another thread."""
        try:
            self._scard.SCardCancel(self._handle)
        except (SystemError, TypeError):
            pass

    def connect(self, reader: str) -> "PcscCard":
        code, rest = _call("SCardConnect", self._scard.SCardConnect, self._handle, reader, _SHARE_SHARED,
                           _PROTOCOL_T0_OR_T1)
        if code != SCARD_S_SUCCESS:
            raise PcscError(code, "SCardConnect")
        card, protocol = rest
        code, status = _call("SCardStatus", self._scard.SCardStatus, card)
        atr = bytes(status[3]) if code == SCARD_S_SUCCESS and len(status) >= 4 else b""
        return PcscCard(self._scard, card, protocol, atr)

    def release(self) -> None:
        try:
            self._scard.SCardReleaseContext(self._handle)
        except (SystemError, TypeError):
            pass


class PcscCard:
    """A connected card (``SCARDHANDLE``)."""

    def __init__(self, scard, handle, protocol: int, atr: bytes) -> None:
        self._scard = scard
        self._handle = handle
        self._protocol = protocol
        self.atr = atr

    def transmit(self, apdu: bytes) -> bytes:
        code, rest = _call("SCardTransmit", self._scard.SCardTransmit, self._handle, self._protocol, list(apdu))
        if code != SCARD_S_SUCCESS:
            raise PcscError(code, "SCardTransmit")
        response = bytes(rest[0])
        if len(response) < 2:
            # vpcd answers "success, no bytes" when the card's link drops
            # mid-command; a real reader says 0x80100069.  Either way no
            # status word came back.
            raise PcscError(SCARD_E_NOT_TRANSACTED, "SCardTransmit", "no status word in the response")
        return response

    def disconnect(self) -> None:
        try:
            self._scard.SCardDisconnect(self._handle, _LEAVE_CARD)
        except (SystemError, TypeError):
            pass
