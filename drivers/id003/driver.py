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
  Every note gets a driver-unique id here (``note_id`` in the events).
* **Vend valid** (spec 6-2-1 (5), 6-4): STACKING → VEND VALID (15h), which the
  controller answers with ACK (50h) and no reply follows; the acceptor repeats
  VEND VALID until it gets that ACK, then STACKED → IDLING.  The note is
  credited at VEND VALID (or at STACKED, if its VEND VALID was never read),
  once: whether it was already credited is a property of the note record, not
  a count of frames, so a repeated VEND VALID or a lost ACK cannot credit twice.
* **Note identity** comes from the protocol state only: a record is the same
  note while the acceptor reports it in escrow (ESCROW, HOLDING); once it
  reports anything past escrow (STACKING, VEND VALID, STACKED, RETURNING,
  REJECTING, IDLING...) the record is finished, and a later ESCROW is another
  note even of the same denomination.
* **The line**: every frame of every read is decoded and acted on in the
  order it came (:meth:`AcceptorDriver._on_frame`).  Replies are matched to
  the commands in flight in order (the acceptor answers each command once, in
  turn); a reply that comes after its response window, up to
  :data:`LATE_REPLY_S` later, is still matched and acted on.  A status tells
  when it was true by the request it answers, so a late one never makes the
  driver repeat a command that may already have been taken.
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

import collections
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
# Replies were seen arriving up to a second after their response window (a
# slow USB-serial adapter, an acceptor busy stacking): such a reply is still
# matched to its command and acted on.  A command waits for its reply twice
# that long: a reply that outlived its command would be taken for the answer
# to a newer one, and a stale status would then look fresh.
LATE_REPLY_S = 1.0
MAX_NOTE_ACTIONS = 6  # commands one poll cycle may send for notes (RESET, ACKs, STACK-1/RETURN)
OPERATION_COMMANDS = frozenset({Command.RESET, Command.STACK_1, Command.STACK_2, Command.RETURN, Command.HOLD,
                                Command.WAIT})
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
    multi_frame_reads: int = 0  # reads that carried more than one frame (all are acted on)
    late_replies: int = 0  # replies that came after their response window, still acted on
    surplus_acks: int = 0  # ACKs that answer no command in flight (ignored)
    unmatched_replies: int = 0  # echoes, versions or tables no command waits for (ignored)
    unknown_replies: int = 0  # checked frames with a code or data we do not understand
    resyncs: int = 0  # GET INHIBIT sent to put reply matching back in step after a lost reply
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
    """One physical note, from its ESCROW until the acceptor reports it gone (spec 6-2-1)."""

    note_id: int | None  # unique per driver; None: a note whose escrow this driver did not see
    escrow_code: int | None
    denomination_fen: int | None
    stacking: bool  # the decision: STACK-1 or RETURN
    command_due: bool = False  # STACK-1/RETURN is to be sent (again)
    command_sent_at: float | None = None
    command_taken: bool = False  # its ACK came, or the acceptor went on to stack it
    past_escrow: bool = False  # reported beyond escrow: a later ESCROW is another note
    credited: bool = False
    returned_reported: bool = False
    unaccounted_reported: bool = False
    ack_due: bool = False  # VEND VALID is to be acknowledged
    vend_acked_at: float | None = None


@dataclass
class _Sent:
    """A command on the line whose reply has not been read yet."""

    command: Command
    sent_at: float
    note_id: int | None = None  # the note a STACK-1/RETURN is for
    reply: codec.Reply | None = None
    given_up: bool = False  # its response window closed: a reply now is late


def _answers(command: Command, reply: codec.Reply) -> bool:
    """Can ``reply`` be the acceptor's answer to ``command``?  (spec 6-2, 6-3, 6-5, 6-6)"""
    if isinstance(reply, StatusReply):
        if reply.status is Status.COMMUNICATION_ERROR:
            return True  # it could not read whatever we sent
        if reply.status is Status.INVALID_COMMAND:
            return command is not Command.STATUS_REQUEST
        return command is Command.STATUS_REQUEST
    if isinstance(reply, codec.Ack):
        return command in OPERATION_COMMANDS
    if isinstance(reply, codec.SettingEcho):
        return reply.command is command
    if isinstance(reply, codec.VersionInfo):
        return command is (Command.GET_BOOT_VERSION if reply.boot else Command.GET_VERSION)
    if isinstance(reply, codec.CurrencyAssignment):
        return command is Command.GET_CURRENCY_ASSIGN
    return False


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
        self._last_note_id = 0
        self._in_flight: collections.deque[_Sent] = collections.deque()
        self._in_flight_life_s = response_timeout_s + 2 * LATE_REPLY_S
        self._late_matches = 0  # replies matched to a command whose window had closed
        self._out_of_step = False
        self._resynced_at = -1e9
        self._last_status: Status | None = None
        self._fresh_status = False  # a status came since the settings were last looked at
        self._powerup_reported = False
        self._reset_due = False
        self._reset_sent_at: float | None = None
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
        self._in_flight.clear()
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

    # ------------------------------------------------------------ the line

    def _exchange(self, frame: bytes, note_id: int | None = None) -> codec.Reply | None:
        """Send one command and wait up to ``response_timeout_s`` for its reply (half duplex, spec ch. 4).

        Every frame read on the way is acted on in the order it came
        (:meth:`_on_frame`), whether it answers this command or not; what is
        returned is only the reply that answers this one, or None.  Bytes that
        arrived since the last read are read (and acted on) first: a late
        reply is news, not noise.  A partial frame is kept across exchanges
        (the decoder gives it up by itself when a complete frame follows), so
        a reply split by a slow line is still read when its tail comes.
        """
        port = self._port()
        self._read_waiting()
        sent = _Sent(Command(frame[2]), time.monotonic(), note_id)
        self._in_flight.append(sent)
        port.write(frame)
        late_before = self._late_matches
        deadline = sent.sent_at + self.response_timeout_s
        while sent.reply is None and time.monotonic() < deadline:
            self._read(port.read(max(1, port.in_waiting)))
        if sent.reply is None:
            sent.given_up = True
            self._counters.add("response_timeouts")
            # A reply came, but was taken for an older command's: either the
            # line is slow, or one reply was lost and every reply since is
            # taken for its predecessor's (_match).  _resync tells them apart.
            self._out_of_step = self._out_of_step or self._late_matches > late_before
        return sent.reply

    def _send_unanswered(self, frame: bytes) -> None:
        """Write a frame that gets no reply: the controller's ACK to VEND VALID (spec 6-4)."""
        self._port().write(frame)

    def _port(self) -> serial.SerialBase:
        port = self._serial
        assert port is not None, "the worker only talks to the acceptor with the port open"
        return port

    def _read_waiting(self) -> None:
        """Read what has arrived without waiting, and forget commands whose reply can no longer come."""
        port = self._port()
        waiting = port.in_waiting
        if waiting:
            self._read(port.read(waiting))
        oldest = time.monotonic() - self._in_flight_life_s
        while self._in_flight and self._in_flight[0].sent_at < oldest:
            self._in_flight.popleft()

    def _read(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._last_bytes_at = time.monotonic()
        frames = self._decoder.feed(chunk)
        if len(frames) > 1:
            self._counters.add("multi_frame_reads")
        for frame in frames:  # every one, oldest first: the order is the acceptor's order
            self._on_frame(codec.parse_reply(frame))

    def _on_frame(self, reply: codec.Reply) -> None:
        """One frame from the acceptor: matched to the command it answers, then acted on."""
        sent = self._match(reply)
        if sent is not None and sent.given_up:
            self._late_matches += 1
            self._counters.add("late_replies")
        if isinstance(reply, StatusReply):
            self._on_status_frame(reply, sent)
        elif isinstance(reply, codec.Ack):
            self._on_ack(sent)
        elif isinstance(reply, codec.UnknownReply):
            self._counters.add("unknown_replies")
        elif sent is None:
            self._counters.add("unmatched_replies")  # an echo, version or table no command waits for

    def _match(self, reply: codec.Reply) -> _Sent | None:
        """The command in flight this reply answers: the oldest one it can answer.

        The acceptor answers each command once and in turn (spec ch. 4).  When
        a reply was lost (noise, a bad CRC) its command stays in flight, and
        the next reply is taken for its answer: a status then looks older than
        it is, never newer, so the driver may wait longer to repeat a command
        but never repeats one on a stale status.  Only a reply that no other
        command in flight could take (an echo, a version; not an ACK, which
        may be a stray one) puts the line back in step: every command sent
        before its own has certainly lost its reply.
        """
        candidates = [sent for sent in self._in_flight if _answers(sent.command, reply)]
        if not candidates:
            return None
        sent = candidates[0]
        if len(candidates) == 1 and not isinstance(reply, codec.Ack):
            while self._in_flight[0] is not sent:
                self._in_flight.popleft()
        self._in_flight.remove(sent)
        sent.reply = reply
        return sent

    def _on_status_frame(self, reply: StatusReply, sent: _Sent | None) -> None:
        if reply.status is Status.INVALID_COMMAND:
            self._counters.add("invalid_commands")
        elif reply.status is Status.COMMUNICATION_ERROR:
            self._counters.add("communication_error_replies")
        else:
            self._counters.add("status_replies")
            self._last_status_at = time.monotonic()
            # When the acceptor was in this state: when the request it answers
            # was sent.  None: it answers nothing we still wait for (very late).
            self._on_status(reply, sent.sent_at if sent is not None else None)

    def _on_ack(self, sent: _Sent | None) -> None:
        """ACK (50h) from the acceptor: it took the operation command it answers (spec 6-3).

        A *surplus* ACK — one that answers no operation command sent within
        the late-reply window (a second answer to a command sent twice, or one
        too late to match) — is counted (``surplus_acks``) and otherwise
        ignored: it cannot say which command or note it belongs to, and
        nothing depends on it, because a note's fate is read from the statuses
        (STACKING or VEND VALID prove that STACK-1 was taken).
        """
        if sent is None:
            self._counters.add("surplus_acks")
            log.debug("acceptor sent an ACK that answers no command in flight; ignored")
            return
        if sent.command is Command.RESET:
            self._counters.add("resets_sent")
            return
        note = self._note
        if note is None or sent.note_id is None or note.note_id != sent.note_id:
            return  # the note it was for is finished already
        note.command_taken = True
        if sent.command is Command.RETURN:
            self._report_returned(note)

    @staticmethod
    def _is_news(asked_at: float | None, since: float | None) -> bool:
        """Does a status asked for at ``asked_at`` describe the acceptor after ``since``?

        ``since`` is when the driver last told the acceptor something (a
        STACK-1/RETURN, an ACK to VEND VALID, a RESET).  A status answering a
        request sent before then may predate that command, so it is no proof
        the command was lost and never makes the driver repeat it: STACK-1 or
        RETURN repeated on a stale ESCROW would act on whatever note is in
        escrow by then.  Time alone never decides it either; requests are
        forgotten after their in-flight life, so a status read that long
        after the command always answers a request sent after it.
        """
        if since is None:
            return True
        return asked_at is not None and asked_at >= since

    # ------------------------------------------------------------ poll cycle

    def _cycle(self) -> None:
        self._counters.add("polls")
        self._exchange(codec.status_request())
        self._act_on_notes()
        self._act_on_settings()
        self._act_on_notes()  # a status read during the settings may call for a command
        self._resync()
        self._check_silence()

    def _resync(self) -> None:
        """Put the reply matching back in step after a lost reply (see :meth:`_match`).

        GET INHIBIT (83h, a read-only setting status request, spec 6-6) has
        an answer no other command takes, so when it comes every command sent
        before it has had its reply or lost it.  On a line that is only slow
        it changes nothing; it is sent at most once per in-flight life.
        """
        now = time.monotonic()
        if not self._out_of_step or now - self._resynced_at < self._in_flight_life_s:
            return
        self._out_of_step = False
        self._resynced_at = now
        self._counters.add("resyncs")
        self._exchange(codec.request(Command.GET_INHIBIT))

    def _act_on_notes(self) -> None:
        """Send what the acceptor's state calls for: RESET, the ACK to VEND VALID, STACK-1/RETURN."""
        for _ in range(MAX_NOTE_ACTIONS):
            self._read_waiting()
            note = self._note
            if self._reset_due:
                self._send_reset()
            elif note is not None and note.ack_due:
                self._acknowledge_vend_valid(note)
            elif note is not None and note.command_due:
                self._send_escrow_command(note)
            else:
                return

    def _act_on_settings(self) -> None:
        """Identity and enable/inhibit, judged by the newest status; never while a note is in escrow."""
        if not self._fresh_status:
            return
        self._fresh_status = False
        status = self._last_status
        if status in (Status.INITIALIZE, Status.DISABLED, Status.IDLING):
            self._ensure_identity()
            self._reconcile(status)
        elif status in codec.FAULT_STATUSES:
            self._ensure_identity()  # so a technician sees version and table even while it is jammed

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

    def _on_status(self, reply: StatusReply, asked_at: float | None) -> None:
        """A status, in the order the acceptor reported it: state and events only, no I/O."""
        status = reply.status
        if status in codec.POWER_UP_STATUSES:
            self._last_status = status
            self._on_power_up(status, asked_at)
            return
        self._powerup_reported = False
        self._reset_due = False  # it has left power up: a RESET got through
        self._track_note(reply, asked_at)
        self._last_status = status
        self._fresh_status = True
        self._publish_for(reply)

    # ------------------------------------------------------------ power up

    def _on_power_up(self, status: Status, asked_at: float | None) -> None:
        where = {Status.POWER_UP_BILL_IN_ACCEPTOR: "acceptor", Status.POWER_UP_BILL_IN_STACKER: "stacker"}.get(status)
        note = self._note
        if not self._powerup_reported:
            self._powerup_reported = True
            self._reset_sent_at = None
            note_id = note.note_id if note else None
            if where is not None:
                self._emit(PowerUpWithNote(where, note.denomination_fen if note else None,
                                           bool(note and note.credited), note_id))
            elif note is not None and note.stacking and note.command_taken and not note.credited:
                self._emit(NoteUnaccounted(note.denomination_fen,
                                           "the acceptor lost power while stacking this note and reports no note "
                                           "inside: count the cash box", note_id))
            self._note = None
        self._settings_applied = False
        self._need_identity = True
        self._ready_announced = False  # announce again once re-initialised
        self._publish(DeviceState.BUSY, "POWER_UP", "The acceptor has just been powered up; the driver resets it.")
        if self._is_news(asked_at, self._reset_sent_at):
            self._reset_due = True

    def _send_reset(self) -> None:
        self._reset_due = False
        self._reset_sent_at = time.monotonic()
        self._exchange(codec.operation(Command.RESET))  # its ACK is counted when it comes (_on_ack)

    # ------------------------------------------------------------ notes

    def _track_note(self, reply: StatusReply, asked_at: float | None) -> None:
        """Follow the note through the acceptor's states (spec 6-2-1 (2)-(9)).

        Which physical note a status speaks of comes from the state alone:
        a note is the same note while it is in escrow (ESCROW, HOLDING); once
        the acceptor reports anything beyond escrow the record is finished, and
        the next ESCROW is another note, whatever its denomination.
        """
        status = reply.status
        note = self._note
        if status is Status.ESCROW:
            self._on_escrow(reply.escrow_code, asked_at)
        elif status is Status.HOLDING:
            if note is not None and not note.past_escrow:
                self._still_in_escrow(note, asked_at)
        elif status is Status.STACKING:
            if note is not None:
                self._moved_on(note)
        elif status is Status.VEND_VALID:
            self._on_vend_valid(asked_at)
        elif status is Status.PAUSE or status in codec.FAULT_STATUSES:
            pass  # the note, if any, is still in the machine
        else:
            if status is Status.STACKED and note is not None:
                self._on_stacked(note)
            if note is not None:
                self._close_note(note, status)
            if status is Status.REJECTING and self._last_status is not Status.REJECTING:
                reason = reply.reject_reason
                self._emit(NoteRejected(reason, codec.REJECT_REASONS.get(reason, "unknown reason")))

    def _on_escrow(self, code: int, asked_at: float | None) -> None:
        note = self._note
        if note is not None and not note.past_escrow and note.escrow_code == code:
            self._still_in_escrow(note, asked_at)
            return
        if note is not None:
            self._close_note(note, Status.ESCROW)
        self._new_escrow(code)

    def _new_escrow(self, code: int) -> None:
        self._last_note_id += 1
        fen = self._table.get(code) if self._table else None
        stacking = self._decide_note(fen)
        note = _Note(self._last_note_id, code, fen, stacking, command_due=True)
        self._note = note
        self._emit(NoteEscrowed(fen, code, stacking, note.note_id))

    def _still_in_escrow(self, note: _Note, asked_at: float | None) -> None:
        """The note is still in escrow: say STACK-1/RETURN again unless this status may predate it."""
        if self._is_news(asked_at, note.command_sent_at):
            note.command_due = True

    def _moved_on(self, note: _Note) -> None:
        """STACKING, VEND VALID or STACKED: past escrow, and STACK-1 was taken even if its ACK was lost."""
        note.past_escrow = True
        note.command_due = False
        if note.stacking:
            note.command_taken = True

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
        note.command_due = False
        note.command_sent_at = time.monotonic()
        # Its ACK (or INVALID COMMAND) is handled when it comes, late or not (_on_ack).
        self._exchange(codec.operation(Command.STACK_1 if note.stacking else Command.RETURN), note.note_id)

    def _on_vend_valid(self, asked_at: float | None) -> None:
        """VEND VALID (spec 6-2-1 (5)): credit the note once, then ACK.

        The acceptor repeats VEND VALID until it gets the ACK.  A repeat asked
        for after our last ACK means that ACK was lost: ACK again.  One asked
        for before it may predate it (a late reply): not ACKed again, so a
        stale VEND VALID does not put a stray ACK on the line, where it could
        meet the next note's VEND VALID.
        """
        note = self._note
        if note is None:
            # The driver never saw this note in escrow (it started, or reconnected,
            # mid-stack): the money is in the box but we cannot say how much.
            note = self._note = _Note(None, None, None, stacking=True, command_taken=True, past_escrow=True)
        self._moved_on(note)
        if not note.credited and not note.unaccounted_reported:
            self._credit(note, "VEND VALID")
        if self._is_news(asked_at, note.vend_acked_at):
            note.ack_due = True

    def _on_stacked(self, note: _Note) -> None:
        """STACKED (16h) with the note not yet credited: its VEND VALID was never read (lost on the
        line, or the acceptor took an ACK meant for an earlier one), yet the note is in the box."""
        self._moved_on(note)
        if not note.credited and not note.unaccounted_reported:
            log.warning("acceptor reports STACKED for note %s without a VEND VALID read; crediting it now",
                        note.note_id)
            self._credit(note, "STACKED")

    def _credit(self, note: _Note, seen: str) -> None:
        """The note is the customer's money: exactly once per note record."""
        if note.denomination_fen is None:
            note.unaccounted_reported = True
            why = ("whose escrow this driver did not see" if note.note_id is None
                   else f"whose escrow code {note.escrow_code:02X}h is not in the currency table")
            self._emit(NoteUnaccounted(None, f"{seen} for a note {why}", note.note_id))
            return
        note.credited = True
        self._counters.add("notes_credited")
        if not note.stacking:
            log.warning("acceptor stacked a note it was told to return; crediting it")
        # Written down (by the listener) before it is acknowledged.
        self._emit(NoteCredited(note.denomination_fen, note.note_id))

    def _acknowledge_vend_valid(self, note: _Note) -> None:
        note.ack_due = False
        note.vend_acked_at = time.monotonic()
        self._send_unanswered(codec.ack())
        self._counters.add("acks_sent")

    def _report_returned(self, note: _Note) -> None:
        if not note.returned_reported:
            note.returned_reported = True
            self._emit(NoteReturned(note.denomination_fen, note.note_id))

    def _close_note(self, note: _Note, status: Status) -> None:
        self._note = None
        if note.credited or note.unaccounted_reported or note.returned_reported:
            return
        if status is Status.RETURNING:
            self._report_returned(note)
        elif note.stacking and note.command_taken:
            self._emit(NoteUnaccounted(note.denomination_fen,
                                       f"the note left stacking without VEND VALID (acceptor now "
                                       f"{status.name}): it was either returned or stacked; count the cash box",
                                       note.note_id))

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
