"""What can go wrong when the kiosk talks to the billing system, as types.

Every failure of :class:`kiosk.backend.client.BackendClient` surfaces as exactly
one subclass of :class:`BackendError`.  Each carries two audiences apart
(STYLE.md, "errors are types"):

* ``reason_key`` -- the i18n key of the reason shown to the customer;
* ``detail`` -- what a technician needs (method, URL path, HTTP status, the
  contract's error code, sizes and lengths, the name of the exception).  It
  is written to kiosk.log and stored with payments, so it never holds text
  the backend wrote: a server's message, a page title or a body may name a
  person or an address (MISSION.md rule 5).  Where a backend value must be
  pointed at, the detail shows it masked (:func:`contract.masking.mask_free_text`)
  with its length.  Digit runs long enough to be account numbers are masked
  here, once, so no caller can forget to.

``message_zh`` and ``message_en`` are the only attributes that hold the
backend's own words (the contract's error message, docs/api.md section 4),
cut to a bounded length and cleaned of control characters.  They may name
the customer: never log them, and seal them before storing them.

``code`` is the machine code from the contract's error body
(docs/api.md, "Errors"), or one the client names itself for failures that
never reached a server's answer (``NETWORK_UNREACHABLE``, ``TIMEOUT``, ...).
"""

from __future__ import annotations

from contract.masking import redact_digit_runs


class BackendError(Exception):
    """Base of every backend failure; the client raises only its subclasses.

    ``retryable`` means: the same request, sent again unchanged, may succeed
    without anybody changing anything.  For a payment it also means the
    outcome is not a refusal, so the payment must be kept and re-posted with
    its idempotency key, never dropped (docs/api.md, "Timeouts, retries and
    idempotency").
    """

    reason_key = "error.backend_failed"
    default_code = "BACKEND_ERROR"
    default_retryable = False

    def __init__(
        self,
        detail: str,
        *,
        code: str = "",
        retryable: bool | None = None,
        message_zh: str = "",
        message_en: str = "",
    ) -> None:
        self.detail = redact_digit_runs(detail)
        self.code = code or self.default_code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class BackendUnreachable(BackendError):
    """No answer at all: refused, DNS failure, TLS failure, connection dropped."""

    reason_key = "error.network_down"
    default_code = "NETWORK_UNREACHABLE"
    default_retryable = True


class BackendTimeout(BackendError):
    """The connect or read timeout ran out before the server answered, or the
    call's deadline (``backend.call_deadline_s``, retries included) passed,
    whatever the server was doing; the detail says how long and what was slow."""

    reason_key = "error.network_down"
    default_code = "TIMEOUT"
    default_retryable = True


class BackendServerError(BackendError):
    """A 5xx, or any non-2xx whose body is not the contract's error object
    (typically a reverse proxy's HTML page)."""

    reason_key = "error.backend_failed"
    default_code = "SERVER_ERROR"
    default_retryable = True


class MalformedReply(BackendError):
    """A 2xx whose body is not JSON or breaks the contract (missing field,
    wrong type, value outside its enumeration).

    Retryable because the outcome is unknown rather than refused: for a
    payment, asking again with the same idempotency key is how to learn it.
    ``field`` is the path of the offending field (``bills[2].amount_fen``),
    or "" when the body as a whole is wrong.
    """

    reason_key = "error.backend_failed"
    default_code = "MALFORMED_REPLY"
    default_retryable = True

    def __init__(self, detail: str, *, field: str = "", **kwargs) -> None:
        super().__init__(detail, **kwargs)
        self.field = field


class ReplyTooLarge(MalformedReply):
    """A reply body larger than ``backend.max_reply_kib``, counted both as it
    came over the wire and after gzip or deflate inflated it.  The client
    stops reading at the limit, so a huge body or a compression bomb costs
    no more memory than the limit."""

    default_code = "REPLY_TOO_LARGE"


class RequestNotSendable(BackendError):
    """A value the kiosk was about to send cannot be put on the wire (text
    that is not valid Unicode in a URL, a header value that is not visible
    ASCII -- a line break, a character beyond Latin-1 --, a body that cannot
    be written as UTF-8 JSON).  Nothing was sent; sending it
    again unchanged cannot help."""

    reason_key = "error.backend_failed"
    default_code = "REQUEST_NOT_SENDABLE"


class AccountNotFound(BackendError):
    reason_key = "error.account_not_found"
    default_code = "ACCOUNT_NOT_FOUND"


class AccountClosed(BackendError):
    reason_key = "error.account_closed"
    default_code = "ACCOUNT_CLOSED"


class AuthenticationFailed(BackendError):
    """The billing system does not accept this terminal (wrong secret, or a
    token it keeps refusing).  A technician has to fix the configuration."""

    reason_key = "error.terminal_not_authorised"
    default_code = "AUTH_FAILED"


class RequestRejected(BackendError):
    """Any other 4xx: the server understood the request and refused it
    (idempotency conflict, invalid amount, validation failure)."""

    reason_key = "error.request_rejected"
    default_code = "REQUEST_REJECTED"


__all__ = [
    "AccountClosed",
    "AccountNotFound",
    "AuthenticationFailed",
    "BackendError",
    "BackendServerError",
    "BackendTimeout",
    "BackendUnreachable",
    "MalformedReply",
    "ReplyTooLarge",
    "RequestNotSendable",
    "RequestRejected",
]


def as_backend_error(exc: BaseException) -> BackendError:
    """The client raises only BackendError; anything else is the kiosk's own bug, and
    the customer still gets an explained failure instead of a dead screen."""
    if isinstance(exc, BackendError):
        return exc
    return BackendError(f"{type(exc).__name__}: {exc}", code="KIOSK_INTERNAL", retryable=False)
