"""The sd_notify datagram protocol, spoken to a socket the test binds (sd_notify(3))."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from kiosk import systemd_notify


@pytest.fixture
def path_socket(tmp_path_factory):
    path = tmp_path_factory.mktemp("notify") / "sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        yield str(path), sock


def test_message_reaches_a_path_socket_as_one_datagram(path_socket):
    name, sock = path_socket
    assert systemd_notify.notify("READY=1", "STATUS=home screen up", environ={"NOTIFY_SOCKET": name})
    assert sock.recv(4096) == b"READY=1\nSTATUS=home screen up"


def test_message_reaches_an_abstract_socket_named_with_an_at_sign():
    name = f"@utility-kiosk-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name[1:].encode())
        sock.settimeout(5)
        assert systemd_notify.notify(systemd_notify.WATCHDOG, environ={"NOTIFY_SOCKET": name})
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_nothing_is_sent_without_a_notify_socket():
    assert systemd_notify.notify(systemd_notify.READY, environ={}) is False


def test_a_vanished_socket_is_logged_not_raised(tmp_path, caplog):
    missing = str(tmp_path / "gone")
    assert systemd_notify.notify(systemd_notify.READY, environ={"NOTIFY_SOCKET": missing}) is False
    assert "could not notify the service manager" in caplog.text


def test_a_notify_socket_that_is_neither_path_nor_abstract_is_refused(caplog):
    assert systemd_notify.notify(systemd_notify.READY, environ={"NOTIFY_SOCKET": "relative/sock"}) is False
    assert "neither a path nor an abstract name" in caplog.records[-1].error


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "15000000"}, 15.0),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "15000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "15000000", "WATCHDOG_PID": "1"}, None),
    ],
)
def test_watchdog_interval_follows_watchdog_usec_and_pid(environ, expected):
    assert systemd_notify.watchdog_interval_s(environ) == expected


def test_pings_come_at_half_the_watchdog_interval():
    assert systemd_notify.ping_interval_ms({"WATCHDOG_USEC": "15000000"}) == 7500
    assert systemd_notify.ping_interval_ms({}) is None
