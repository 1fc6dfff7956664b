"""Telling systemd how the kiosk is: the ``sd_notify`` datagram protocol.

Follows sd_notify(3) and systemd.service(5) (``Type=notify``, ``WatchdogSec=``):
a message is one datagram of newline-separated ``VARIABLE=value`` lines, sent
to the AF_UNIX datagram socket named in ``$NOTIFY_SOCKET``.  A name that
starts with ``@`` lies in Linux's abstract namespace (the ``@`` stands for a
leading NUL byte); any other name is a path.  With no ``$NOTIFY_SOCKET`` (a
developer's terminal, the tests) every call here does nothing.

The service manager arms its watchdog with ``$WATCHDOG_USEC`` and, per
sd_watchdog_enabled(3), ``$WATCHDOG_PID`` names the one process that is to
send ``WATCHDOG=1``; a process with another PID stays silent.  On a terminal
the kiosk runs as a child of the compositor, so the session script sets
``WATCHDOG_PID`` to the kiosk's own PID before it execs the kiosk.

No Qt in here: the runtime sends ``WATCHDOG=1`` from a timer on the GUI
thread, so a frozen event loop stops the pings and systemd restarts the kiosk.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Mapping

log = logging.getLogger("kiosk.systemd")

READY = "READY=1"
WATCHDOG = "WATCHDOG=1"
STOPPING = "STOPPING=1"

# The watchdog drill: with this variable set to N, SIGUSR2 makes the GUI
# thread sleep N seconds, as a hung event loop would.  Unset, nothing changes.
FREEZE_DRILL_ENV = "KIOSK_WATCHDOG_DRILL_FREEZE_S"


def socket_address(name: str) -> str | bytes:
    """The ``connect()`` address for a ``$NOTIFY_SOCKET`` value (sd_notify(3))."""
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    if name.startswith("/"):
        return name
    raise ValueError(f"NOTIFY_SOCKET={name!r} is neither a path nor an abstract name starting with '@'")


def notify(*assignments: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Send ``assignments`` (e.g. ``READY=1``) as one datagram; True when sent.

    A kiosk that cannot reach the service manager keeps serving customers, so
    a failure is logged, not raised: without ``WATCHDOG=1`` systemd restarts
    the service anyway, and that is the right outcome.
    """
    name = environ.get("NOTIFY_SOCKET", "")
    if not name:
        return False
    message = "\n".join(assignments).encode()
    try:
        address = socket_address(name)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message)
    except (OSError, ValueError) as exc:
        log.warning("could not notify the service manager", extra={"notify_socket": name, "error": str(exc)})
        return False
    return True


def watchdog_interval_s(environ: Mapping[str, str] = os.environ, pid: int | None = None) -> float | None:
    """The service's ``WatchdogSec=`` in seconds, or None when this process need not ping.

    None when ``$WATCHDOG_USEC`` is unset, not a positive integer, or when
    ``$WATCHDOG_PID`` names another process (sd_watchdog_enabled(3)).
    """
    usec = environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    watchdog_pid = environ.get("WATCHDOG_PID", "")
    if watchdog_pid and watchdog_pid != str(os.getpid() if pid is None else pid):
        return None
    return int(usec) / 1_000_000


def ping_interval_ms(environ: Mapping[str, str] = os.environ) -> int | None:
    """How often to send ``WATCHDOG=1``: half of ``WatchdogSec=``, as systemd.service(5) advises."""
    interval = watchdog_interval_s(environ)
    return None if interval is None else max(1, int(interval * 1000 / 2))


def install_freeze_drill(environ: Mapping[str, str] = os.environ) -> bool:
    """Arm the watchdog drill when ``$KIOSK_WATCHDOG_DRILL_FREEZE_S`` is set; True when armed.

    Python runs signal handlers on the main thread, which is the GUI thread,
    so SIGUSR2 then blocks the event loop for that many seconds: the watchdog
    pings stop and, under systemd, the service is restarted.  Used by the
    tests and by a technician checking a terminal (packaging/README.md).
    """
    value = environ.get(FREEZE_DRILL_ENV, "")
    try:
        seconds = float(value)
    except ValueError:
        return False
    if seconds <= 0:
        return False

    def freeze(_signum: int, _frame: object) -> None:
        log.warning("watchdog drill: the GUI thread sleeps", extra={"freeze_s": seconds})
        time.sleep(seconds)

    signal.signal(signal.SIGUSR2, freeze)
    return True
