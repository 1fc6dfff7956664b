"""Shared fixtures: headless Qt, and the real backend simulator on loopback."""

from __future__ import annotations

import os

# Before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def umask_left_as_found():
    """A test that runs ``kiosk`` in-process (``app.cli.main``) sets its private umask (077) for the
    whole test process: every directory made after it would be its owner's alone, and the Debian root
    the packaging tests build would be unreadable to the kiosk user inside it.  Put back after each test."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)
