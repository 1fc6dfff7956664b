"""A call for a staff member from the terminal, as it crosses the wire
(docs/api.md, 3.6 POST /api/v1/terminals/{terminal_id}/assistance).

Its own module because this is the one request about the person at the
machine rather than about an account, and what it may carry is the point:
a reason, the journey step and a time -- never an account number, a name or
anything the customer typed (MISSION.md rule 5).  The client builds the
request here and the simulator reads it back with the same checks, so both
sides of the contract hold one definition of it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contract.errors import MalformedReply
from contract.json_fields import Fields

ASSISTANCE_REASONS = ("customer_help",)
ASSISTANCE_STATUSES = ("queued",)
# The fields a request body may hold, and no others.
ASSISTANCE_FIELDS = ("reason", "step", "requested_at")
# A wait the counter promises beyond an hour is no promise a kiosk can show.
MAX_EXPECTED_WAIT_S = 3600

# A journey step's name (home, overview, cash_in ...): an identifier, not
# free text, so it can never carry what a customer typed.
ASSISTANCE_STEP = re.compile(r"[a-z][a-z_]{0,31}")
# The Idempotency-Key of a call: the terminal picks it (a random UUID).
ASSISTANCE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{7,63}")
# The counter's number for the call, which the screen shows the customer.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*")


@dataclass(frozen=True)
class AssistanceRequest:
    """One call for a staff member; ``key`` is its Idempotency-Key, so every
    attempt of it -- and a repeat after a lost answer -- is the same call."""

    key: str
    step: str
    requested_at: str  # ISO 8601 with offset, the kiosk's clock
    reason: str = "customer_help"

    def to_body(self) -> dict[str, Any]:
        return {"reason": self.reason, "step": self.step, "requested_at": self.requested_at}


@dataclass(frozen=True)
class AssistanceReply:
    request_id: str  # the counter's number for the call, shown on screen
    status: str  # "queued"
    expected_wait_s: int | None = None  # None: the counter does not say
    # True when the server answered from its idempotency store (an earlier
    # attempt had already called someone); from the Idempotent-Replay header.
    replayed: bool = False


def new_assistance_key() -> str:
    return uuid.uuid4().hex


def assistance_request(step: str, key: str | None = None, now: datetime | None = None) -> AssistanceRequest:
    """A call from ``step``, under ``key`` (a new one when None), made ``now``.

    A step or key outside the contract is the caller's mistake: ValueError.
    """
    if not isinstance(step, str) or not ASSISTANCE_STEP.fullmatch(step):
        raise ValueError(f"step must be a journey step's name ({ASSISTANCE_STEP.pattern}), got {step!r}")
    key = new_assistance_key() if key is None else key
    if not isinstance(key, str) or not ASSISTANCE_KEY.fullmatch(key):
        raise ValueError(f"key must match {ASSISTANCE_KEY.pattern}, got {key!r}")
    moment = (now or datetime.now()).astimezone()
    return AssistanceRequest(key=key, step=step, requested_at=moment.isoformat(timespec="seconds"))


def parse_assistance_reply(obj: Any, *, replayed: bool = False) -> AssistanceReply:
    """The reply to a call (docs/api.md, 3.6)."""
    f = Fields(obj)
    return AssistanceReply(
        request_id=f.text("request_id", max_length=64, pattern=_REQUEST_ID,
                          expected="letters, digits and - _ / ."),
        status=f.text("status", choices=ASSISTANCE_STATUSES),
        expected_wait_s=(
            f.integer("expected_wait_s", minimum=0, maximum=MAX_EXPECTED_WAIT_S)
            if f.has("expected_wait_s") else None
        ),
        replayed=replayed,
    )


def parse_assistance_request(obj: Any, key: str) -> AssistanceRequest:
    """The inverse of :meth:`AssistanceRequest.to_body`, with the same checks
    and no field beyond them; the simulator answers a MalformedReply as 400."""
    if not ASSISTANCE_KEY.fullmatch(key):
        raise MalformedReply("Idempotency-Key: expected 8 to 64 letters, digits and -", field="Idempotency-Key")
    f = Fields(obj)
    f.only(ASSISTANCE_FIELDS)
    return AssistanceRequest(
        key=key,
        reason=f.text("reason", choices=ASSISTANCE_REASONS),
        step=f.text("step", pattern=ASSISTANCE_STEP, expected="a journey step's name"),
        requested_at=f.time("requested_at"),
    )
