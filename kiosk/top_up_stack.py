"""Bringing card top-ups up with the payments: the purchase outbox's worker, the service, recovery.

Called by :class:`~kiosk.payment_stack.PaymentStack` once the money journal
is open and recovered and the devices are up, on the same worker thread:

1. the purchase outbox's worker starts (it posts each purchase's payment and
   its write's confirmation exactly once, the purchase number the key);
2. the :class:`~kiosk.top_up.TopUpService` is built over the journal, the
   card reader, the acceptor (cash, :class:`~kiosk.top_up_cash.CashPaymentMethod`,
   with the journal's disk guard) and the printer (the top-up slip);
3. every purchase a crash or power cut left unfinished is carried forward
   (:func:`~kiosk.top_up_recovery.recover_top_ups`, bounded) *before* the
   service is handed to the screen, so a new top-up never races an old one.

Without a card reader or an acceptor there is nothing to sell: no service.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

log = logging.getLogger("kiosk.top_up")


class TopUpStack:
    def __init__(self) -> None:
        self.service = None  # kiosk.top_up.TopUpService, once open
        self.sync = None  # offline_store.purchase_outbox.PurchaseSyncWorker
        self.recovered: list = []  # kiosk.top_up_recovery.TopUpRecoveryCase, from this start

    def open(self, config, journal, devices, client_for: Callable[[str], object]):
        """Start the purchase worker, build the service, recover; the service, or None when
        this kiosk has no card reader or no acceptor.  Blocks (bounded): a worker thread."""
        if devices.card_reader is None or devices.acceptor is None:
            return None
        from kiosk.top_up import TopUpService
        from kiosk.top_up_cash import CashPaymentMethod
        from kiosk.top_up_recovery import recover_top_ups
        from kiosk.top_up_slip import TopUpSlipPrinter
        from offline_store.disk_reserve import note_guard
        from offline_store.purchase_outbox import PurchaseSyncWorker

        def sync_client():  # made on the worker's own thread, used there only
            return client_for("purchase_sync")

        self.sync = PurchaseSyncWorker(journal, lambda payment: sync_client().pay_purchase(payment),
                                       lambda confirmation: sync_client().confirm_write(confirmation),
                                       lambda no, serial: sync_client().purchase_status(no, serial)).start()
        reserve = getattr(journal, "reserve", None)
        cash = CashPaymentMethod(journal, devices.acceptor, config.payment.accepted_fen, clock=time.time,
                                 guard=note_guard(reserve) if reserve is not None else None)
        printer = TopUpSlipPrinter(devices.printer) if devices.printer is not None else None
        service = TopUpService(config, journal, self.sync, client_for("top_up"), devices.card_reader, cash,
                               slip_printer=printer)
        self.recovered = recover_top_ups(service)
        self.service = service
        log.info("card top-ups open", extra={"recovered": len(self.recovered)})
        return service

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.sync is not None:
            self.sync.stop(timeout_s)
