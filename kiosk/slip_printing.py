"""A customer's slip sent to the printer driver, with one answer: printed or not.

The payment service and the card top-up print their slips the same way, so
it is written once here: the printer's last status must say it can print
(nothing is queued to a printer known to be out of paper, so the screen can
say "no slip" at once), the whole print is waited for a bounded time, and a
slip the printer took but could not confirm (a device that cannot answer
``GS r``) counts as printed, as ``drivers/escpos/link.py`` defines it.

It never raises: the money is decided before the slip is printed and a
failed slip must not change what the customer is told about it.
"""

from __future__ import annotations

import logging

from drivers.escpos.link import PrintOutcome

log = logging.getLogger("kiosk.slip")

SLIP_WAIT_S = 20.0  # the longest a customer waits for a slip before "not printed"
PRINTED = (PrintOutcome.PRINTED, PrintOutcome.PRINTED_UNCONFIRMED)


def print_slip_on(printer, slip, what: dict, *, wait_s: float = SLIP_WAIT_S) -> bool:
    """Print ``slip`` on ``printer`` (a PrinterDriver, or None for a terminal without one).

    ``what`` names the slip in the log (``{"txn": ...}``, ``{"purchase": ...}``).
    True when the slip came out; False when there is no printer, it cannot
    print now, the print failed or did not finish within ``wait_s``.
    """
    try:
        if printer is None or not printer.status.usable:
            return False
        result = printer.print_slip(slip).result(timeout=wait_s)
    except Exception:  # noqa: BLE001 - a slip never decides the money
        log.exception("slip not printed", extra=what)
        return False
    if result.outcome not in PRINTED:
        log.warning("slip not printed", extra={**what, "reason": result.reason, "detail": result.detail})
        return False
    return True
