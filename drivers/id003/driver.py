"""The banknote acceptor driver: ID-003 over a serial port, on its own thread.

The protocol is half-duplex and controller-driven (spec ID03-001E ch. 4
"Communication Flow"): the controller sends one command, the acceptor answers
within a short window, and the controller polls with STATUS REQUEST (11h).
This driver is the controller:

* **Power up** (spec 4 (1), 6-2-2): POWER UP (40h), or 41h/42h when a note was
  inside, is answered with RESET (40h → ACK); while the acceptor reports
  INITIALIZE (1Bh) the driver reads the version (88h) and the currency assign
  table (8Ah, four bytes per denomination: escrow code, country code, base,
  exponent) and sends the setting commands (C0h, C1h, C4h, C5h, C3h), each of
  which the acceptor echoes.  41h/42h are reported as :class:`PowerUpWithNote`
  so the payment layer can reconcile.
* **Escrow** (spec 4 (3), 6-2-1 (3), 6-3): ESCROW (13h + escrow code) → the
  ``decide`` callback → STACK-1 (41h) or RETURN (43h), each answered by ACK.
* **Vend valid** (spec 6-2-1 (5), 6-4): STACKING → VEND VALID (15h), which the
  controller answers with ACK (50h) and no reply follows; the acceptor repeats
  VEND VALID until it gets that ACK, then STACKED → IDLING.  The note is
  credited here and only here, once: whether it was already credited is a
  property of the note record (escrow → command → vend valid → closed), not a
  count of frames, so a repeated VEND VALID or a lost ACK cannot credit twice.
* **Faults** (6-2-3): 43h–49h become the XFS status model
  (``drivers/status.py``); the acceptor clears them itself once the cause is
  removed.
* **Availability**: no valid status for ``silence_timeout_s`` → ``offline``
  (``SILENT``, or ``COMMUNICATION_ERROR`` when bytes do arrive but never a
  good frame); the port failing or vanishing → ``offline`` (``PORT_GONE``) and
  the port is reopened in a loop with exponential backoff.

Nothing raises into the caller: :meth:`enable`, :meth:`inhibit` and
:meth:`stop` only set state and wake the worker; results come back as status
(:attr:`publisher`) and events (:meth:`subscribe`), both on the driver thread.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import serial

from drivers.id003 import codec
from drivers.id003.codec import Command, Status, StatusReply
from drivers.id003.events import (
    AcceptorEvent, AcceptorReady, NoteCredited, NoteEscrowed, NoteRejected, NoteReturned, NoteUnaccounted,
    PowerUpWithNote,
)
from drivers.status import ACCEPTOR, AcceptorDetail, DeviceState, DeviceStatus, Stacker, StatusPublisher

log = logging.getLogger("kiosk.devices.acceptor")

CNY_NOTES_FEN = (100, 500, 1000, 2000, 5000, 10000)  # ¥1, 5, 10, 20, 50, 100
READ_SLICE_S = 0.01  # one pyserial read; the response window is made of these
IDENTITY_RETRY_S = 2.0  # how often to ask again for a currency table the acceptor refused
SETTING_RETRY_S = 0.3  # min. time between two attempts to fix enable/inhibit
REQUIRED_SETTINGS = (Command.SET_DENOMINATIONS, Command.SET_INHIBIT)

Decider = Callable[[int], bool]
EventListener = Callable[[AcceptorEvent], None]


@dataclass(frozen=True)
class DriverStats:
    """Counters for the technician and the tests (a snapshot)."""

    polls: int = 0
    status_replies: int = 0
    response_timeouts: int = 0
    crc_errors: int = 0
    length_errors: int = 0
    skipped_bytes: int = 0
    stale_bytes: int = 0
    invalid_commands: int = 0
    communication_error_replies: int = 0
    resets_sent: int = 0
    acks_sent: int = 0
    notes_credited: int = 0
    port_losses: int = 0
    port_opens: int = 0
    internal_errors: int = 0


@dataclass
class _Note:
    """The note the acceptor is working on, from ESCROW until it leaves."""

    escrow_code: int | None
    denomination_fen: int | None
    stacking: bool  # the decision: STACK-1 or RETURN
    command_acked: bool = False
    credited: bool = False
    unaccounted_reported: bool = False


@dataclass
class _Counters:
    values: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, amount: int = 1) -> None:
        self.values[name] = self.values.get(name, 0) + amount


class AcceptorDriver:
    """An ID-003 banknote acceptor on ``port_url`` (a device path or any pyserial URL).

    ``decide(denomination_fen) -> bool`` is asked for every note in escrow whose
    denomination is enabled; True stacks it, False returns it.  It runs on the
    driver thread, must be quick, and a decider that raises returns the note.
    Without a decider every enabled denomination is stacked.
    """

    def __init__(
        self,
        port_url: str,
        poll_interval_s: float = 0.1,
        silence_timeout_s: float = 1.0,
        *,
        decide: Decider | None = None,
        response_timeout_s: float = 0.2,
        reconnect_backoff_s: tuple[float, float] = (0.2, 5.0),
        denominations: dict[int, int] | None = None,
        country_code: int | None = None,
        stop_timeout_s: float = 2.0,
    ) -> None:
        if not port_url:
            raise ValueError("port_url is empty: give a serial device (/dev/ttyS0) or a pyserial URL")
        if not 0.005 <= poll_interval_s <= 5.0:
            raise ValueError(f"poll_interval_s={poll_interval_s} is outside 0.005..5 s")
        if not 0.01 <= response_timeout_s <= 2.0:
            raise ValueError(f"response_timeout_s={response_timeout_s} is outside 0.01..2 s")
        if silence_timeout_s <= max(poll_interval_s, response_timeout_s):
            raise ValueError(f"silence_timeout_s={silence_timeout_s} must be longer than the poll interval "
                             f"({poll_interval_s}) and the response timeout ({response_timeout_s})")
        low, high = reconnect_backoff_s
        if not 0 < low <= high:
            raise ValueError(f"reconnect_backoff_s={reconnect_backoff_s} must be (min, max) with 0 < min <= max")
        if denominations is not None:
            bad = {code: fen for code, fen in denominations.items() if fen not in CNY_NOTES_FEN}
            if bad:
                raise ValueError(f"denominations {bad} are not CNY notes in fen {CNY_NOTES_FEN}")
        self.port_url = port_url
        self.poll_interval_s = poll_interval_s
        self.silence_timeout_s = silence_timeout_s
        self.response_timeout_s = response_timeout_s
        self._backoff = (low, high)
        self._override_table = dict(denominations) if denominations is not None else None
        self._country_code = country_code
        self._stop_timeout_s = stop_timeout_s

        self.publisher = StatusPublisher(DeviceStatus(
            ACCEPTOR, DeviceState.OFFLINE, "CONNECTING", f"Driver not started yet on {port_url}.",
            AcceptorDetail()))
        self._lock = threading.Lock()
        self._listeners: list[EventListener] = []
        self._decide = decide
        self._want_enabled = False
        self._accepted_fen: frozenset[int] = frozenset()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

        # everything below belongs to the worker thread
        self._serial: serial.SerialBase | None = None
        self._decoder = codec.FrameDecoder()
        self._counters = _Counters()
        self._table: dict[int, int] | None = None
        self._version: str | None = None
        self._need_identity = True
        self._identity_tried_at = -1e9
        self._identity_failures = 0
        self._ready_announced = False
        self._settings_applied = False
        self._applied_bits: bytes | None = None
        self._inhibit_tried_at = -1e9
        self._note: _Note | None = None
        self._sequence = 0
        self._last_status: Status | None = None
        self._powerup_reported = False
        self._last_status_at = 0.0
        self._last_bytes_at = 0.0
        self._ever_opened = False

    # ------------------------------------------------------------ public API

    def start(self) -> "AcceptorDriver":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="id003-acceptor", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Inhibit the acceptor (best effort), close the port, join; True if the thread ended in time."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(self._stop_timeout_s if timeout is None else timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> "AcceptorDriver":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def subscribe(self, listener: EventListener) -> None:
        """``listener(event)`` is called on the driver thread for every event; exceptions are logged."""
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: EventListener) -> None:
        """Stop calling ``listener`` (a payment that is over); unknown listeners are ignored."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def subscribe_status(self, listener: Callable[[DeviceStatus], None]) -> None:
        self.publisher.subscribe(listener)

    @property
    def running(self) -> bool:
        """The worker thread is alive (it only ends through :meth:`stop`)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def status(self) -> DeviceStatus:
        return self.publisher.status

    def set_decider(self, decide: Decider | None) -> None:
        with self._lock:
            self._decide = decide

    def enable(self, accepted_fen: set[int] | frozenset[int]) -> None:
        """Take notes of these denominations (fen).  Returns at once; the worker applies it."""
        accepted = frozenset(int(fen) for fen in accepted_fen)
        with self._lock:
            self._accepted_fen = accepted
            self._want_enabled = bool(accepted)
        self._wake.set()

    def inhibit(self) -> None:
        """Take no more notes.  A note already past escrow is still credited when it vends."""
        with self._lock:
            self._want_enabled = False
        self._wake.set()

    @property
    def settled(self) -> bool:
        """Inhibited and no note anywhere in the acceptor: nothing more can be credited.

        The payment layer commits a payment only once this holds, so a note
        that was already past escrow when intake stopped is still in it."""
        with self._lock:
            wanted = self._want_enabled
        return not wanted and self._note is None and self._last_status is Status.DISABLED

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def denominations(self) -> dict[int, int]:
        """Escrow code → fen, as read from the acceptor's currency table (empty until known)."""
        table = self._table
        return dict(table) if table else {}

    def stats(self) -> DriverStats:
        decoder = self._decoder.stats
        values = dict(self._counters.values)
        values.update(crc_errors=decoder.crc_errors, length_errors=decoder.length_errors,
                      skipped_bytes=decoder.skipped_bytes + decoder.flushed_bytes)
        return DriverStats(**{name: values.get(name, 0) for name in DriverStats.__dataclass_fields__})

    # ------------------------------------------------------------ worker loop

    def _run(self) -> None:
        backoff = self._backoff[0]
        while not self._stop.is_set():
            if self._serial is None:
                if not self._open_port():
                    self._sleep(backoff)
                    backoff = min(backoff * 2, self._backoff[1])
                    continue
                backoff = self._backoff[0]
            started = time.monotonic()
            try:
                self._cycle()
            except (serial.SerialException, OSError) as error:
                self._port_lost(error)
                continue
            except Exception:  # noqa: BLE001 - a driver bug must not kill the thread that holds the money
                self._counters.add("internal_errors")
                log.exception("acceptor driver cycle failed")
            self._sleep(started + self.poll_interval_s - time.monotonic())
        self._shutdown()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and not self._stop.is_set():
            self._wake.wait(seconds)
        self._wake.clear()

    def _open_port(self) -> bool:
        try:
            port = serial.serial_for_url(
                self.port_url, baudrate=9600, bytesize=serial.EIGHTBITS, parity=serial.PARITY_EVEN,
                stopbits=serial.STOPBITS_ONE, timeout=READ_SLICE_S, write_timeout=0.5, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as error:
            self._publish_port_problem(error)
            return False
        self._serial = port
        self._counters.add("port_opens")
        self._decoder = codec.FrameDecoder()
        now = time.monotonic()
        self._last_status_at = now
        self._last_bytes_at = 0.0
        # A reconnect may be a different acceptor, or one that lost power:
        # read it again and send the settings again.
        self._need_identity = True
        self._identity_failures = 0
        self._settings_applied = False
        if self._ever_opened:
            log.info("acceptor port %s reopened", self.port_url)
        self._ever_opened = True
        return True

    def _publish_port_problem(self, error: Exception) -> None:
        code = getattr(error, "errno", None)
        path = self.port_url if "://" not in self.port_url else None
        missing = code == errno.ENOENT or (path is not None and not os.path.exists(path))
        if missing:
            self._publish(DeviceState.OFFLINE, "PORT_GONE",
                          f"Serial port {self.port_url} does not exist: check the acceptor's serial/USB cable "
                          f"and the port in the configuration. Retrying by itself.")
        else:
            self._publish(DeviceState.OFFLINE, "PORT_UNAVAILABLE",
                          f"Serial port {self.port_url} cannot be opened ({error}): another program may hold it, "
                          f"or permissions are missing. Retrying by itself.")

    def _port_lost(self, error: Exception) -> None:
        self._counters.add("port_losses")
        log.warning("acceptor port %s lost: %s", self.port_url, error)
        self._close_port()
        self._publish(DeviceState.OFFLINE, "PORT_GONE",
                      f"Serial port {self.port_url} failed or disappeared ({error}): check the acceptor's cable "
                      f"or USB adapter. Reconnecting by itself.")

    def _close_port(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001 - closing a dead port may fail in any way
                pass

    def _shutdown(self) -> None:
        if self._serial is not None and self._last_status in (Status.IDLING, Status.DISABLED, Status.INITIALIZE):
            try:
                self._exchange(codec.setting(Command.SET_INHIBIT, codec.inhibit_data(True)))
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        self._close_port()
        self._publish(DeviceState.OFFLINE, "STOPPED", "The acceptor driver was stopped (kiosk shutting down).")

    # ------------------------------------------------------------ one exchange

    def _exchange(self, frame: bytes, expect_reply: bool = True) -> codec.Reply | None:
        """Send one frame and wait for one reply frame (half duplex, spec ch. 4)."""
        port = self._serial
        assert port is not None
        waiting = port.in_waiting
        if waiting:  # a late answer to an earlier command, or noise: not ours
            self._counters.add("stale_bytes", len(port.read(waiting)))
        self._decoder.flush()
        port.write(frame)
        if not expect_reply:
            return None
        deadline = time.monotonic() + self.response_timeout_s
        while time.monotonic() < deadline:
            chunk = port.read(max(1, port.in_waiting))
            if not chunk:
                continue
            self._last_bytes_at = time.monotonic()
            frames = self._decoder.feed(chunk)
            if frames:
                reply = codec.parse_reply(frames[0])
                if isinstance(reply, StatusReply):
                    if reply.status is Status.INVALID_COMMAND:
                        self._counters.add("invalid_commands")
                    elif reply.status is Status.COMMUNICATION_ERROR:
                        self._counters.add("communication_error_replies")
                return reply
        self._counters.add("response_timeouts")
        self._decoder.flush()
        return None

    # ------------------------------------------------------------ poll cycle

    def _cycle(self) -> None:
        self._counters.add("polls")
        reply = self._exchange(codec.status_request())
        if isinstance(reply, StatusReply) and reply.status not in (Status.COMMUNICATION_ERROR,
                                                                    Status.INVALID_COMMAND):
            self._counters.add("status_replies")
            self._last_status_at = time.monotonic()
            self._on_status(reply)
            return
        self._check_silence()

    def _check_silence(self) -> None:
        now = time.monotonic()
        quiet = now - self._last_status_at
        if quiet <= self.silence_timeout_s:
            return
        if self._last_bytes_at > self._last_status_at:
            self._publish(DeviceState.OFFLINE, "COMMUNICATION_ERROR",
                          f"The acceptor on {self.port_url} sends bytes but no valid ID-003 frame for "
                          f"{quiet:.1f} s: check that it is set to 9600 baud 8E1 ID-003 and the cable is not "
                          f"picking up noise.")
        else:
            self._publish(DeviceState.OFFLINE, "SILENT",
                          f"No answer from the acceptor on {self.port_url} for {quiet:.1f} s: check its power "
                          f"supply and the serial cable at the acceptor end.")

    def _on_status(self, reply: StatusReply) -> None:
        status = reply.status
        if status in codec.POWER_UP_STATUSES:
            self._last_status = status
            self._on_power_up(status)
            return
        self._powerup_reported = False
        self._track_note(reply)
        if status in (Status.INITIALIZE, Status.DISABLED, Status.IDLING):
            self._ensure_identity()
            self._reconcile(status)
        elif status in codec.FAULT_STATUSES:
            self._ensure_identity()  # so a technician sees version and table even while it is jammed
        self._last_status = status
        self._publish_for(reply)

    # ------------------------------------------------------------ power up

    def _on_power_up(self, status: Status) -> None:
        where = {Status.POWER_UP_BILL_IN_ACCEPTOR: "acceptor", Status.POWER_UP_BILL_IN_STACKER: "stacker"}.get(status)
        note = self._note
        if not self._powerup_reported:
            self._powerup_reported = True
            if where is not None:
                self._emit(PowerUpWithNote(where, note.denomination_fen if note else None,
                                           bool(note and note.credited)))
            elif note is not None and note.stacking and note.command_acked and not note.credited:
                self._emit(NoteUnaccounted(note.denomination_fen,
                                           "the acceptor lost power while stacking this note and reports no note "
                                           "inside: count the cash box"))
            self._note = None
        self._settings_applied = False
        self._need_identity = True
        self._ready_announced = False  # announce again once re-initialised
        self._publish(DeviceState.BUSY, "POWER_UP", "The acceptor has just been powered up; the driver resets it.")
        if isinstance(self._exchange(codec.operation(Command.RESET)), codec.Ack):
            self._counters.add("resets_sent")

    # ------------------------------------------------------------ notes

    def _track_note(self, reply: StatusReply) -> None:
        status = reply.status
        note = self._note
        if status is Status.ESCROW:
            code = reply.escrow_code
            if note is None or note.command_acked or note.escrow_code != code:
                if note is not None:
                    self._close_note(note, status)
                note = self._new_escrow(code)
            self._send_escrow_command(note)
        elif status is Status.HOLDING:
            if note is not None and not note.command_acked:
                self._send_escrow_command(note)
        elif status is Status.VEND_VALID:
            self._on_vend_valid()
        elif status in (Status.STACKING, Status.PAUSE) or status in codec.FAULT_STATUSES:
            pass  # the note, if any, is still in the machine
        else:
            if note is not None:
                self._close_note(note, status)
            if status is Status.REJECTING and self._last_status is not Status.REJECTING:
                reason = reply.reject_reason
                self._emit(NoteRejected(reason, codec.REJECT_REASONS.get(reason, "unknown reason")))

    def _new_escrow(self, code: int) -> _Note:
        fen = self._table.get(code) if self._table else None
        stacking = self._decide_note(fen)
        note = _Note(code, fen, stacking)
        self._note = note
        self._emit(NoteEscrowed(fen, code, stacking))
        return note

    def _decide_note(self, fen: int | None) -> bool:
        with self._lock:
            wanted = self._want_enabled and fen is not None and fen in self._accepted_fen
            decide = self._decide
        if not wanted:
            return False
        if decide is None:
            return True
        try:
            return bool(decide(fen))
        except Exception:  # noqa: BLE001 - a payment-layer bug returns the note, never keeps it unaccounted
            log.exception("acceptor decide callback failed; returning the note")
            return False

    def _send_escrow_command(self, note: _Note) -> None:
        command = Command.STACK_1 if note.stacking else Command.RETURN
        if isinstance(self._exchange(codec.operation(command)), codec.Ack):
            note.command_acked = True
            if not note.stacking:
                self._emit(NoteReturned(note.denomination_fen))

    def _on_vend_valid(self) -> None:
        note = self._note
        if note is None:
            # The driver never saw this note in escrow (it started, or reconnected,
            # mid-stack): the money is in the box but we cannot say how much.
            note = self._note = _Note(None, None, stacking=True, command_acked=True)
        if not note.credited and not note.unaccounted_reported:
            if note.denomination_fen is not None:
                note.credited = True
                self._sequence += 1
                self._counters.add("notes_credited")
                if not note.stacking:
                    log.warning("acceptor stacked a note it was told to return; crediting it")
                # Written down (by the listener) before it is acknowledged.
                self._emit(NoteCredited(note.denomination_fen, self._sequence))
            else:
                note.unaccounted_reported = True
                self._emit(NoteUnaccounted(None, "VEND VALID for a note whose escrow this driver did not see"))
        self._exchange(codec.ack(), expect_reply=False)
        self._counters.add("acks_sent")

    def _close_note(self, note: _Note, status: Status) -> None:
        self._note = None
        if note.stacking and note.command_acked and not note.credited and not note.unaccounted_reported:
            if status is Status.RETURNING:
                self._emit(NoteReturned(note.denomination_fen))
            else:
                self._emit(NoteUnaccounted(note.denomination_fen,
                                           f"the note left stacking without VEND VALID (acceptor now "
                                           f"{status.name}): it was either returned or stacked; count the cash box"))

    # ------------------------------------------------------------ identity and settings

    def _ensure_identity(self) -> None:
        now = time.monotonic()
        if not self._need_identity or now - self._identity_tried_at < (IDENTITY_RETRY_S if self._identity_failures
                                                                         else 0):
            return
        self._identity_tried_at = now
        version = self._exchange(codec.request(Command.GET_VERSION))
        if isinstance(version, codec.VersionInfo):
            self._version = version.text
        table = self._override_table
        if table is None:
            reply = self._exchange(codec.request(Command.GET_CURRENCY_ASSIGN))
            table = self._table_from(reply) if isinstance(reply, codec.CurrencyAssignment) else None
        if not table:
            self._identity_failures += 1
            log.warning("acceptor currency table not available (attempt %d)", self._identity_failures)
            return
        changed = table != self._table
        self._table = table
        self._need_identity = False
        self._identity_failures = 0
        if changed or not self._ready_announced:
            self._ready_announced = True
            self._emit(AcceptorReady(self._version or "", tuple(sorted(set(table.values())))))

    def _table_from(self, reply: codec.CurrencyAssignment) -> dict[int, int]:
        table = {}
        for entry in reply.entries:
            if self._country_code is not None and entry.country_code != self._country_code:
                continue
            fen = entry.value * 100
            if fen in CNY_NOTES_FEN:
                table[entry.escrow_code] = fen
            elif entry.value:
                log.warning("acceptor currency table: escrow code %02Xh worth %d is not a CNY note; ignored",
                            entry.escrow_code, entry.value)
        return table

    def _wanted(self) -> tuple[bool, bytes]:
        table = self._table or {}
        with self._lock:
            codes = {code for code, fen in table.items() if fen in self._accepted_fen}
            want = self._want_enabled and bool(codes)
        return want, codec.denomination_bits(codes if want else set())

    def _reconcile(self, status: Status) -> None:
        """Make the acceptor's enable/inhibit match what the caller asked, judged by its status."""
        if self._table is None:
            if status is Status.IDLING:  # never take notes we could not value
                self._apply(Command.SET_INHIBIT, codec.inhibit_data(True))
            return
        want, bits = self._wanted()
        if not self._settings_applied:
            settings = ((Command.SET_DENOMINATIONS, bits), (Command.SET_SECURITY, b"\x00\x00"),
                        (Command.SET_DIRECTION, b"\x00"), (Command.SET_OPTIONAL_FUNCTION, b"\x00\x00"),
                        (Command.SET_INHIBIT, codec.inhibit_data(not want)))
            if all(self._apply(command, data) for command, data in settings):
                self._settings_applied = True
                self._applied_bits = bits
            return
        if status is Status.INITIALIZE:
            return
        if bits != self._applied_bits and self._apply(Command.SET_DENOMINATIONS, bits):
            self._applied_bits = bits
        mismatch = (want and status is Status.DISABLED) or (not want and status is Status.IDLING)
        now = time.monotonic()
        if mismatch and now - self._inhibit_tried_at >= SETTING_RETRY_S:
            self._inhibit_tried_at = now
            self._apply(Command.SET_INHIBIT, codec.inhibit_data(not want))

    def _apply(self, command: Command, data: bytes) -> bool:
        reply = self._exchange(codec.setting(command, data))
        if isinstance(reply, codec.SettingEcho) and reply.command is command and reply.data == data:
            return True
        if command not in REQUIRED_SETTINGS and isinstance(reply, StatusReply) \
                and reply.status is Status.INVALID_COMMAND:
            return True  # an optional setting this model does not have
        log.info("acceptor did not echo %s %s (got %r)", command.name, data.hex(), reply)
        return False

    # ------------------------------------------------------------ status model

    _FAULTS = {
        Status.STACKER_FULL: ("STACKER_FULL", Stacker.FULL, False,
                              "The cash box is full: collect the cash (empty the box) and put it back; the acceptor "
                              "resumes by itself."),
        Status.STACKER_OPEN: ("STACKER_OPEN", Stacker.OPEN, False,
                              "The cash box is out or not locked in: put it back and lock it."),
        Status.JAM_IN_ACCEPTOR: ("JAM_IN_ACCEPTOR", Stacker.OK, True,
                                 "A note is stuck in the acceptor's transport path: open the acceptor head, remove "
                                 "the note, close the head."),
        Status.JAM_IN_STACKER: ("JAM_IN_STACKER", Stacker.OK, True,
                                "A note is stuck between transport and cash box: take the box out, remove the note, "
                                "put the box back; compare the journal before returning the note to anyone."),
        Status.CHEATED: ("CHEATED", Stacker.OK, False,
                         "The acceptor detected a manipulation (note pulled back, foreign object or light in the "
                         "path): inspect the note path, keep the hall camera recording, power-cycle the acceptor."),
    }

    def _publish_for(self, reply: StatusReply) -> None:
        status = reply.status
        escrow = status in (Status.ESCROW, Status.HOLDING)
        fault = self._FAULTS.get(status)
        if fault is not None:
            reason, stacker, jammed, detail = fault
            self._publish(DeviceState.HARDWARE_ERROR, reason, detail,
                          AcceptorDetail(stacker=stacker, jammed=jammed, note_in_escrow=False))
        elif status is Status.FAILURE:
            code = reply.failure_code
            text = codec.FAILURE_CODES.get(code, "unknown failure") if code is not None else "no code"
            shown = f"{code:02X}h" if code is not None else "?"
            self._publish(DeviceState.HARDWARE_ERROR, "FAILURE",
                          f"The acceptor reports an internal failure {shown} ({text}): power it off and on; if it "
                          f"comes back, replace the unit.")
        elif status is Status.PAUSE:
            self._publish(DeviceState.BUSY, "PAUSE",
                          "A second note was pushed in while the first was being taken: the acceptor waits until "
                          "it is pulled out.", AcceptorDetail(note_in_escrow=escrow))
        elif status is Status.INITIALIZE:
            self._publish(DeviceState.BUSY, "INITIALIZING", "The acceptor is initialising.")
        elif self._table is None and self._identity_failures >= 3:
            self._publish(DeviceState.HARDWARE_ERROR, "NO_CURRENCY_TABLE",
                          "The acceptor answers but gives no usable currency table (8Ah) with CNY notes: check "
                          "its currency/firmware set; notes are refused until then.")
        elif status in (Status.IDLING, Status.DISABLED):
            self._publish(DeviceState.ONLINE, "",
                          "Accepting notes." if status is Status.IDLING else "Ready; note intake inhibited.")
        else:
            self._publish(DeviceState.BUSY, "", f"Handling a note ({status.name.lower()}).",
                          AcceptorDetail(note_in_escrow=escrow))

    def _publish(self, state: DeviceState, reason: str, detail: str,
                 device_detail: AcceptorDetail | None = None) -> None:
        self.publisher.publish(DeviceStatus(ACCEPTOR, state, reason, detail, device_detail or AcceptorDetail()))

    def _emit(self, event: AcceptorEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the device
                log.exception("acceptor event listener failed on %r", event)
