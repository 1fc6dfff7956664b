"""Shared fixtures: headless Qt, and the real backend simulator on loopback."""

from __future__ import annotations

import os

# Before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
