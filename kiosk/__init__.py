"""Utility self-service kiosk: application core (no Qt in here except where a module says so)."""

__version__ = "0.1.0"
