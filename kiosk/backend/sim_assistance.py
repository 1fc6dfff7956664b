"""The staffed counter's queue behind the simulator: calls for a staff member
from the terminals (docs/api.md, 3.6 POST /api/v1/terminals/{terminal_id}/assistance).

Its own module because a call for help is not billing: it has its own
idempotency store (one call per key, whatever happens to the answer) and
its own record, which the tests read to prove a tap called one person and
sent nothing about the customer.  It runs under the billing lock, as every
route does (sim_billing.py).
"""

from __future__ import annotations

from typing import Any

from contract.assistance import parse_assistance_request
from contract.errors import MalformedReply
from kiosk.backend.sim_messages import _json_reply, _refuse, _Reply

# What the simulated counter tells every caller.
EXPECTED_WAIT_S = 120


class _AssistanceDesk:
    """Calls queued at the counter, one per (terminal, key)."""

    def __init__(self) -> None:
        self._replies: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []

    def call(self, terminal: str, key: str, body: Any, received_at: str) -> _Reply:
        try:
            parse_assistance_request(body, key)  # every field checked, and no other field
        except MalformedReply as problem:
            raise _refuse(400, "VALIDATION_FAILED", problem.detail) from None
        earlier = self._replies.get((terminal, key))
        if earlier is not None:
            # A call repeated is the same call: its answer again, nobody called twice.
            return _json_reply(200, earlier, headers=(("Idempotent-Replay", "true"),))
        reply = {
            "request_id": f"A{len(self.calls) + 1:04d}",
            "status": "queued",
            "expected_wait_s": EXPECTED_WAIT_S,
        }
        self._replies[(terminal, key)] = reply
        self.calls.append({
            "request_id": reply["request_id"],
            "terminal_id": terminal,
            "idempotency_key": key,
            "received_at": received_at,
            "body": body,
        })
        return _json_reply(201, reply)
