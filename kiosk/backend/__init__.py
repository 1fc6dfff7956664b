"""The billing system, as the kiosk sees it: contract types, client, simulator.

The contract is docs/api.md.  Import what you need from here::

    from kiosk.backend import BackendClient, BackendError, PaymentRequest

The simulator (``kiosk.backend.simulator``) is not imported here: it serves
the demo and the tests, and the kiosk itself has no need of an HTTP server.
"""

from kiosk.backend.client import BackendClient
from kiosk.backend.errors import (
    AccountClosed,
    AccountNotFound,
    AuthenticationFailed,
    BackendError,
    BackendServerError,
    BackendTimeout,
    BackendUnreachable,
    MalformedReply,
    RequestRejected,
)
from kiosk.backend.models import (
    Account,
    Bill,
    Heartbeat,
    PaymentNote,
    PaymentRequest,
    PaymentResult,
    TariffTier,
    UsageMonth,
    parse_account,
    parse_heartbeat,
    parse_payment_result,
)

__all__ = [
    "Account",
    "AccountClosed",
    "AccountNotFound",
    "AuthenticationFailed",
    "BackendClient",
    "BackendError",
    "BackendServerError",
    "BackendTimeout",
    "BackendUnreachable",
    "Bill",
    "Heartbeat",
    "MalformedReply",
    "PaymentNote",
    "PaymentRequest",
    "PaymentResult",
    "RequestRejected",
    "TariffTier",
    "UsageMonth",
    "parse_account",
    "parse_heartbeat",
    "parse_payment_result",
]
