"""Our virtual prepaid card, in the virtual reader of vsmartcard's vpcd.

vpcd (Debian ``vsmartcard-vpcd``) is a pcscd reader driver that listens on
TCP 35963 for reader ``Virtual PCD 00 00``; the card is the TCP *client*.  A
connected card is a card in the reader, a closed connection a card taken out.
Every message both ways is a 2-byte big-endian length and a payload
(vsmartcard ``virtualsmartcard/src/vpcd/vpcd.c``, ``vicc_transmit``).  A
1-byte payload from vpcd is a control code: ``00`` power off, ``01`` power
on, ``02`` reset (no reply to these), ``04`` send the ATR (reply with it).
Longer payloads are command APDUs; the reply is the response APDU.

The card answers with :class:`~drivers.pcsc.applet.PrepaidCardApplet`.  Tests
and the demo script it: :meth:`VirtualCard.insert` and :meth:`remove` connect
and disconnect, :meth:`mute` makes it swallow APDUs without answering (vpcd has
no timeout of its own: a mute card blocks ``SCardTransmit`` until it speaks or
leaves), :meth:`pull_on_apdu` drops the connection when a given APDU arrives
— the customer pulling the card in the middle of an exchange.  The connection
is re-made in a loop, so the card comes back after pcscd restarts.

    python -m drivers.pcsc.virtual_card --account 3201100017

runs one for the demo; type ``remove``, ``insert``, ``mute``, ``unmute``,
``pull-on-write``, ``spoil-mac`` or ``quit`` on its standard input.  For
top-ups give it the card's own purchase key (``--card-key``, 32 hex digits:
the billing system's master key diversified by the serial,
``contract.card_token.card_key``); without one it refuses every purse write
(6982).
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading

from drivers.pcsc import card_app
from drivers.pcsc.applet import DEMO_CARD, CardImage, PrepaidCardApplet
from drivers.pcsc.card_app import CardInfo
from drivers.pcsc.card_faults import Arrival, ScriptedCardFaults

log = logging.getLogger("kiosk.devices.virtual_card")

VPCD_PORT = 35963
_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0x00, 0x01, 0x02, 0x04
_POLL_S = 0.05  # how often a blocked receive looks at remove/stop/mute


class _Gone(Exception):
    """The connection ended: vpcd closed it, or we took the card out."""


class VirtualCard(ScriptedCardFaults):
    """One virtual card that can be inserted in and removed from vpcd's reader."""

    def __init__(self, host: str = "127.0.0.1", port: int = VPCD_PORT, *, retry_interval_s: float = 0.1) -> None:
        self.host = host
        self.port = port
        self.retry_interval_s = retry_interval_s
        self._cond = threading.Condition()
        self._applet: PrepaidCardApplet | None = None
        self._init_card_faults()
        self._sock: socket.socket | None = None
        self._connected = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- scripting
    def start(self) -> "VirtualCard":
        with self._cond:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name=f"virtual-card:{self.port}", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        with self._cond:
            self._stopping = True
            self._applet = None
            self._drop_connection()
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)

    def insert(self, card: CardInfo | CardImage = DEMO_CARD) -> PrepaidCardApplet:
        """Put a card in the reader (replacing any card there); returns its applet."""
        image = card if isinstance(card, CardImage) else CardImage.of(card)
        applet = PrepaidCardApplet(image)
        with self._cond:
            self._drop_connection()
            self._applet = applet
            self._cond.notify_all()
        self.start()
        return applet

    def remove(self) -> None:
        """Take the card out: the connection closes and is not made again."""
        with self._cond:
            self._applet = None
            self._drop_connection()
            self._cond.notify_all()

    @property
    def inserted(self) -> bool:
        with self._cond:
            return self._applet is not None

    @property
    def connected(self) -> bool:
        with self._cond:
            return self._connected

    def wait_connected(self, timeout_s: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._connected, timeout_s)

    # ------------------------------------------------------------- the link
    def _drop_connection(self) -> None:
        # Called with the lock held; shutdown() wakes a recv() in the link thread.
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or self._applet is not None)
                if self._stopping:
                    return
                applet = self._applet
            sock = self._connect()
            if sock is None:
                with self._cond:
                    self._cond.wait(self.retry_interval_s)
                continue
            try:
                self._serve(sock, applet)
            except (_Gone, OSError) as error:
                log.debug("virtual card out of the reader", extra={"port": self.port, "why": repr(error)})
            finally:
                with self._cond:
                    self._sock = None
                    self._connected = False
                    self._cond.notify_all()
                sock.close()

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=1.0)
        except OSError:
            return None  # pcscd not (yet) up: try again
        sock.settimeout(_POLL_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._cond:
            if self._stopping or self._applet is None:
                sock.close()
                return None
            self._sock = sock
            self._connected = True
            self._cond.notify_all()
        log.debug("virtual card in the reader", extra={"port": self.port})
        return sock

    def _still_inserted(self, applet: PrepaidCardApplet) -> bool:
        with self._cond:
            return not self._stopping and self._applet is applet

    def _recv_exact(self, sock: socket.socket, count: int, applet: PrepaidCardApplet) -> bytes:
        buffer = b""
        while len(buffer) < count:
            # vpcd writes the length and the payload separately; without a
            # fresh QUICKACK before each recv the delayed ACK costs ~40 ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            try:
                chunk = sock.recv(count - len(buffer))
            except socket.timeout:
                if not self._still_inserted(applet):
                    raise _Gone() from None
                continue
            if not chunk:
                raise _Gone()
            buffer += chunk
        return buffer

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def _serve(self, sock: socket.socket, applet: PrepaidCardApplet) -> None:
        while True:
            length = int.from_bytes(self._recv_exact(sock, 2, applet), "big")
            message = self._recv_exact(sock, length, applet)
            if length == 1:
                code = message[0]
                if code in (_POWER_OFF, _POWER_ON, _RESET):
                    applet.reset()
                elif code == _GET_ATR:
                    self._send(sock, applet.atr)
                continue
            action, message = self._arrival(sock, applet, message)
            if action is Arrival.PULL:
                raise _Gone()
            response = applet.process(message)
            if action is Arrival.PULL_AFTER:
                self._take_out(applet)
                raise _Gone()  # written, never answered: the connection drops
            self._send(sock, response)

    def _arrival(self, sock: socket.socket, applet: PrepaidCardApplet, apdu: bytes) -> tuple[Arrival, bytes]:
        """Count the APDU and apply the scripted faults; hold it while muted; PULL if the card left meanwhile.

        A held APDU is dropped, never executed, when vpcd closes the link
        meanwhile (pcscd stopped, the reader gone): a card without power
        does nothing."""
        with self._cond:
            action, apdu = self._on_arrival(apdu)
            if action is Arrival.PULL:
                self._take_out(applet)
                return action, apdu
            while self._muted and not self._stopping and self._applet is applet:
                if self._link_closed(sock):
                    return Arrival.PULL, apdu
                self._cond.wait(_POLL_S)
            if self._stopping or self._applet is not applet:
                return Arrival.PULL, apdu
            return action, apdu

    @staticmethod
    def _link_closed(sock: socket.socket) -> bool:
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, TimeoutError):  # nothing to read: the link is up
            return False
        except OSError:
            return True

    def _take_out(self, applet: PrepaidCardApplet) -> None:
        with self._cond:
            if self._applet is applet:
                self._applet = None


# ----------------------------------------------------------------- demo entry point
_COMMANDS = ("insert", "remove", "mute", "unmute", "pull-on-write", "spoil-mac")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.pcsc.virtual_card",
        description="A virtual prepaid meter card in vpcd's reader (needs pcscd with vsmartcard-vpcd). "
                    "Commands on standard input: " + ", ".join(_COMMANDS) + ", quit.")
    parser.add_argument("--utility", choices=[u.value for u in card_app.Utility], default=DEMO_CARD.utility.value)
    parser.add_argument("--account", default=DEMO_CARD.account_no, help="account number (户号), digits")
    parser.add_argument("--meter", default=DEMO_CARD.meter_no, help="meter number, 12 digits")
    parser.add_argument("--balance-fen", type=int, default=DEMO_CARD.balance_fen, help="credit on the card, in fen")
    parser.add_argument("--purchases", type=int, default=DEMO_CARD.purchase_count, help="purchase count")
    parser.add_argument("--serial", default=DEMO_CARD.serial, help="card serial, 16 hex digits")
    parser.add_argument("--card-key", default="", help="the card's purchase key, 32 hex digits (none: no top-up)")
    parser.add_argument("--hoarding-limit-fen", type=int, default=0,
                        help="most the meter may hold after a purchase, in fen (0: the meters' ceiling)")
    parser.add_argument("--host", default="127.0.0.1", help="where vpcd listens (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=VPCD_PORT, help=f"vpcd's port (default {VPCD_PORT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    info = CardInfo(card_app.Utility(args.utility), args.account, args.meter, card_app.CardType.PURCHASE,
                    args.balance_fen, args.purchases, args.serial)
    try:
        key = bytes.fromhex(args.card_key) if args.card_key else None
        image = CardImage.of(info, purse_key=key, hoarding_limit_fen=args.hoarding_limit_fen)
    except (card_app.CardFormatError, ValueError) as error:
        print(f"virtual card: {error}", file=sys.stderr)
        return 2
    card = VirtualCard(args.host, args.port)
    card.insert(image)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"virtual card {info.account_no}: connecting to vpcd at {args.host}:{args.port} "
          f"(retrying until pcscd is up)", flush=True)
    try:
        for line in sys.stdin:
            command = line.strip().lower()
            if command == "quit":
                break
            action = {"insert": lambda: card.insert(image), "remove": card.remove, "mute": card.mute,
                      "unmute": lambda: card.mute(False), "pull-on-write": card.pull_on_write,
                      "spoil-mac": card.spoil_next_mac}.get(command)
            if action is None:
                print(f"commands: {', '.join(_COMMANDS)}, quit", flush=True)
                continue
            action()
            print(f"virtual card: {command}", flush=True)
        else:
            while not done.wait(1.0):  # standard input closed: run until a signal
                pass
    except KeyboardInterrupt:
        pass
    finally:
        card.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
