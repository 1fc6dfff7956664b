"""The simulator's requests and replies, and the contract's error bodies
(docs/api.md, "Errors" and "Error codes").

Its own module because both layers of the simulator speak in these values:
the billing behaviour (sim_billing.py) answers with them, and the HTTP
transport (sim_http.py) reads requests into them, sends them and fakes
faults with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# code -> (message_zh, message_en, retryable); docs/api.md, "Error codes".
_ERROR_TEXTS: dict[str, tuple[str, str, bool]] = {
    "VALIDATION_FAILED": ("请求内容不正确", "The request is not valid", False),
    "IDEMPOTENCY_KEY_REQUIRED": ("缺少幂等键", "The Idempotency-Key header is required", False),
    "AUTH_FAILED": ("终端认证失败", "Terminal authentication failed", False),
    "AUTH_REQUIRED": ("需要终端认证", "Terminal authentication is required", False),
    "AUTH_EXPIRED": ("终端认证已过期", "The terminal's token has expired", False),
    "TERMINAL_MISMATCH": ("终端编号与认证不符", "The terminal id does not match the token", False),
    "ACCOUNT_NOT_FOUND": ("户号不存在，请核对后重新输入", "No account has this number", False),
    "ACCOUNT_CLOSED": ("该户已销户，请到人工窗口办理", "This account is closed", False),
    "PAYMENT_NOT_FOUND": ("未找到该笔交易", "No payment has this transaction number", False),
    "IDEMPOTENCY_CONFLICT": (
        "该交易号已用于另一笔缴费",
        "This transaction number was already used for a different payment",
        False,
    ),
    "AMOUNT_INVALID": ("缴费金额无效", "The payment amount is not valid", False),
    "NOT_FOUND": ("接口不存在", "No such endpoint", False),
    "METHOD_NOT_ALLOWED": ("不支持的请求方法", "Method not allowed on this endpoint", False),
    "INTERNAL_ERROR": ("系统内部错误，请稍后再试", "Internal error, please try again later", True),
}


@dataclass(frozen=True)
class _Reply:
    status: int
    payload: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def _json_reply(status: int, obj: Any, headers: tuple[tuple[str, str], ...] = ()) -> _Reply:
    return _Reply(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), headers=headers)


def _error(status: int, code: str, explanation: str = "") -> _Reply:
    """The contract's error body (docs/api.md, "Errors")."""
    message_zh, message_en, retryable = _ERROR_TEXTS[code]
    if explanation:
        message_en = f"{message_en}: {explanation}"
    body = {
        "code": code,
        "message_zh": message_zh,
        "message_en": message_en,
        "retryable": retryable,
    }
    return _json_reply(status, {"error": body})


class _Refused(Exception):
    """Raised inside a route to answer with an error reply."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _refuse(status: int, code: str, explanation: str = "") -> _Refused:
    return _Refused(_error(status, code, explanation))


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: Any  # http.client.HTTPMessage: case-insensitive .get()
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise _refuse(400, "VALIDATION_FAILED", "body is not JSON") from None

