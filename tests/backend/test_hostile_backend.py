"""The client against a hostile backend on loopback (tests/backend/hostile_server.py).

Whatever the server does -- trickle, flood, bomb, nest, overflow, name the
customer, or hide behind a proxy the environment names -- a call ends as one
BackendError within its deadline, holds no more than the reply limit in
memory, and leaves no backend text in an error detail or a log line.
"""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import json
import logging
import os
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from backend.conftest import AUTH_PATH, HOSTILE_TOKEN, TERMINAL_ID
from backend.hostile_server import (
    HostileServer,
    account_body,
    account_with_many_bills,
    contract_error,
    delayed,
    endless_continue,
    gzip_bomb,
    hang,
    reply,
    reply_json,
    response_head,
    streamed,
    trickle_body,
    trickle_head,
)
from contract.errors import (
    AccountClosed,
    BackendError,
    BackendServerError,
    BackendTimeout,
    BackendUnreachable,
    MalformedReply,
    ReplyTooLarge,
    RequestNotSendable,
)
from kiosk.backend.seed import seed_accounts
from contract.masking import mask_address, mask_name

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = ("electricity", "3201100017")
ACCOUNT_PATH = "/api/v1/accounts/electricity/3201100017"
HEARTBEAT_PATH = f"/api/v1/terminals/{TERMINAL_ID}/heartbeat"
SERVER_TIME = {"server_time": "2026-11-23T10:15:02+08:00"}
DEADLINE_S = 2.0  # make_hostile_client's call_deadline_s
MARGIN_S = 0.75  # what a call may take beyond its deadline on a busy 2-core machine


def fails_in_time(call: Callable[[], object], deadline_s: float = DEADLINE_S) -> tuple[BackendError, float]:
    """The BackendError ``call`` ends with, and how long it took; within the deadline."""
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        call()
    elapsed = time.monotonic() - started
    assert elapsed <= deadline_s + MARGIN_S, f"the call took {elapsed:.2f} s, deadline {deadline_s} s"
    return caught.value, elapsed


def deadline_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "backend-call-deadline"]


# --- Finding 5: no call outlives its deadline ----------------------------------


def test_headers_trickling_a_byte_a_second_fail_at_the_call_deadline(hostile, make_hostile_client):
    hostile.on(ACCOUNT_PATH, trickle_head(interval_s=1.0))
    client = make_hostile_client()
    error, elapsed = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, BackendTimeout) and error.retryable
    assert "call deadline of 2 s" in error.detail and "status line and headers" in error.detail
    assert elapsed >= DEADLINE_S - 0.05  # the deadline, not a read timeout, ended it
    assert not deadline_threads(), "the watchdog thread outlived its call"
    print(f"\nFIGURE headers trickling 1 byte/s, call_deadline_s=2: failed after {elapsed:.2f} s")


def test_a_body_trickling_a_byte_a_second_fails_at_the_call_deadline(hostile, make_hostile_client):
    hostile.on(HEARTBEAT_PATH, trickle_body(interval_s=1.0))
    client = make_hostile_client()
    error, elapsed = fails_in_time(lambda: client.heartbeat("in_service"))
    assert isinstance(error, BackendTimeout) and "reading the body" in error.detail
    print(f"\nFIGURE body trickling 1 byte/s, call_deadline_s=2: failed after {elapsed:.2f} s")


def test_endless_100_continue_fails_at_the_call_deadline(hostile, make_hostile_client):
    hostile.on(ACCOUNT_PATH, endless_continue(interval_s=0.02))
    client = make_hostile_client()
    error, elapsed = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, BackendTimeout) and "status line and headers" in error.detail
    print(f"\nFIGURE endless 100 Continue, call_deadline_s=2: failed after {elapsed:.2f} s")


def test_a_server_that_never_answers_fails_at_the_deadline_not_the_read_timeout(hostile, make_hostile_client):
    hostile.on(ACCOUNT_PATH, hang())
    client = make_hostile_client(read_timeout_s=10.0)
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, BackendTimeout) and "call deadline" in error.detail


def test_the_deadline_covers_every_retry(hostile, make_hostile_client):
    slow_failure = contract_error(500, "INTERNAL_ERROR", "内部错误", "Internal error", retryable=True)
    hostile.on(ACCOUNT_PATH, delayed(0.8, slow_failure))
    client = make_hostile_client(retries=5)
    fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert len(hostile.requests_to(ACCOUNT_PATH)) <= 3  # six attempts would take 4.8 s


def test_the_deadline_covers_renewing_the_token(hostile, make_hostile_client):
    hostile.on(AUTH_PATH, delayed(0.9, reply_json({"token": HOSTILE_TOKEN, "expires_in_s": 3600})))
    hostile.on(ACCOUNT_PATH, delayed(0.9, contract_error(401, "AUTH_EXPIRED", "令牌过期", "Token expired")))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, BackendTimeout)  # cut during the renewal, not after a second refusal


def test_closing_the_client_ends_a_call_in_flight_at_once(hostile, make_hostile_client):
    hostile.on(ACCOUNT_PATH, hang())
    client = make_hostile_client(call_deadline_s=20.0)
    outcome: dict[str, BackendError] = {}

    def look_up() -> None:
        try:
            client.lookup_account(*ACCOUNT)
        except BackendError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=look_up, daemon=True)
    worker.start()
    asked_by = time.monotonic() + 5
    while not hostile.requests_to(ACCOUNT_PATH) and time.monotonic() < asked_by:
        time.sleep(0.02)
    started = time.monotonic()
    client.close()
    worker.join(timeout=5)
    assert not worker.is_alive() and time.monotonic() - started < 1.0
    assert isinstance(outcome["error"], BackendUnreachable) and outcome["error"].code == "CLIENT_CLOSED"
    with pytest.raises(BackendUnreachable):  # a closed client stays closed
        client.heartbeat("in_service")


# --- Finding 6: no reply larger than the limit ----------------------------------


def test_a_50_mb_account_reply_is_refused_at_the_size_limit(hostile, make_hostile_client):
    hostile.on(ACCOUNT_PATH, streamed(account_with_many_bills(*ACCOUNT, total_bytes=50 << 20)))
    client = make_hostile_client(call_deadline_s=10.0)
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT), deadline_s=10.0)
    assert isinstance(error, ReplyTooLarge)
    assert "1,048,576 bytes" in error.detail and "backend.max_reply_kib" in error.detail


def test_a_reply_announcing_more_than_the_limit_is_refused_before_it_is_read(hostile, make_hostile_client):
    head = response_head(200, {"Content-Type": "application/json", "Content-Length": str(50 << 20)})

    def announce_and_stall(exchange) -> None:
        exchange.send(head)
        exchange.wait(30)

    hostile.on(ACCOUNT_PATH, announce_and_stall)
    client = make_hostile_client(call_deadline_s=10.0)
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT), deadline_s=1.0)
    assert isinstance(error, ReplyTooLarge) and "announces 52,428,800 bytes" in error.detail


def test_gzip_is_inflated_but_a_gzip_bomb_is_refused_at_the_limit(hostile, make_hostile_client):
    honest = gzip.compress(json.dumps(account_body(*ACCOUNT)).encode())
    hostile.on(ACCOUNT_PATH, reply(200, honest, {"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    client = make_hostile_client(call_deadline_s=10.0)
    assert client.lookup_account(*ACCOUNT).arrears_fen == 9082
    hostile.on(ACCOUNT_PATH, gzip_bomb(1 << 30))
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT), deadline_s=10.0)
    assert isinstance(error, ReplyTooLarge) and "inflates beyond the limit of 1,048,576 bytes" in error.detail


_MEASURE_PEAK_RSS = """
import json, resource, sys, time
# A client that inflates the bomb fails here, not the test machine.
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from kiosk.backend.client import BackendClient
from contract.errors import BackendError

def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

client = BackendClient(sys.argv[1], "T0001", "secret", 3.0, 10.0, retries=0, call_deadline_s=15.0)
client.authenticate()  # imports and first connection before the measurement starts
before = peak_kib()
started = time.monotonic()
try:
    client.lookup_account("electricity", "3201100017")
    outcome = "returned"
except BackendError as exc:
    outcome = type(exc).__name__
except MemoryError:
    outcome = "MemoryError"
print(json.dumps({"outcome": outcome, "peak_before_kib": before, "peak_after_kib": peak_kib(),
                  "seconds": time.monotonic() - started}))
"""


@pytest.mark.parametrize("reply_kind", ["50 MB account", "1 MB gzip bomb of 1 GiB"])
def test_peak_memory_stays_near_the_limit_whatever_the_reply_size(hostile, reply_kind):
    if reply_kind == "50 MB account":
        hostile.on(ACCOUNT_PATH, streamed(account_with_many_bills(*ACCOUNT, total_bytes=50 << 20)))
    else:
        hostile.on(ACCOUNT_PATH, gzip_bomb(1 << 30))
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    run = subprocess.run([sys.executable, "-c", _MEASURE_PEAK_RSS, hostile.url], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    growth_mib = (measured["peak_after_kib"] - measured["peak_before_kib"]) / 1024
    print(f"\nFIGURE {reply_kind}: peak RSS grew {growth_mib:.1f} MiB "
          f"(VmHWM {measured['peak_after_kib'] / 1024:.1f} MiB), refused in {measured['seconds']:.2f} s")
    assert measured["outcome"] == "ReplyTooLarge"
    assert growth_mib < 32, f"peak RSS grew {growth_mib:.1f} MiB for a 1 MiB limit"


# --- Finding 7: every failure is a BackendError, every value range-checked ----


def test_json_nested_100000_deep_is_a_malformed_reply(hostile, make_hostile_client):
    hostile.on(ACCOUNT_PATH, reply(200, b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"}))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, MalformedReply) and "deeper than 16 levels" in error.detail


@pytest.mark.parametrize("field, digits", [("balance_fen", 4000), ("quantity", 400)])
def test_an_integer_of_hundreds_of_digits_is_refused_while_decoding(hostile, make_hostile_client, field, digits):
    # 400 digits in a quantity used to escape as OverflowError (float() of it).
    huge = "9" * digits
    body = json.dumps(account_body(*ACCOUNT)).replace('"balance_fen": 0', f'"balance_fen": {huge}', 1) \
        if field == "balance_fen" else json.dumps(account_body(*ACCOUNT)).replace(
            '"quantity": 200.0', f'"quantity": {huge}', 1)
    hostile.on(ACCOUNT_PATH, reply(200, body.encode(), {"Content-Type": "application/json"}))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, MalformedReply) and f"integer of {digits:,} digits" in error.detail


_BILL = {"period": "2026-10", "amount_fen": 100, "due_date": "2026-11-15", "status": "paid", "usage": 1.0}
_TIER = {"tier": 1, "name_zh": "第一档", "name_en": "Tier 1", "up_to": None, "price_fen_per_unit": 48.83}
OUT_OF_RANGE = {
    "balance of 2**64 fen": ({"balance_fen": 2**64}, "balance_fen"),
    "arrears of 2**63 fen": ({"arrears_fen": 2**63}, "arrears_fen"),
    "bill of 2**63 fen": ({"bills": [dict(_BILL, amount_fen=2**63)]}, "bills[0].amount_fen"),
    "5000 bills": ({"bills": [_BILL] * 5000}, "bills"),
    "holder of 10000 characters": ({"holder_masked": "张" * 10_000}, "holder_masked"),
    "address of 5000 characters": ({"address_masked": "路" * 5_000}, "address_masked"),
    "holder with a lone surrogate": ({"holder_masked": "张\ud800明"}, "holder_masked"),
    "address with a line break": ({"address_masked": "城东区\n**路"}, "address_masked"),
    "usage of 1e300 kWh": ({"usage": [{"month": "2026-01", "quantity": 1e300}]}, "usage[0].quantity"),
    "usage of 10**25 kWh": ({"usage": [{"month": "2026-01", "quantity": 10**25}]}, "usage[0].quantity"),
    "tier 1000000": ({"tariff_tiers": [dict(_TIER, tier=10**6)]}, "tariff_tiers[0].tier"),
}


@pytest.mark.parametrize("case", OUT_OF_RANGE, ids=list(OUT_OF_RANGE))
def test_a_value_out_of_range_is_a_malformed_reply_naming_its_field(hostile, make_hostile_client, case):
    overrides, field = OUT_OF_RANGE[case]
    hostile.on(ACCOUNT_PATH, reply_json(account_body(*ACCOUNT, **overrides)))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, MalformedReply) and error.field == field, error.detail


@pytest.mark.parametrize("token", ["tök€n-ünicode", "token\r\nX-Injected: yes"])
def test_a_token_no_header_can_carry_is_a_malformed_reply(hostile, make_hostile_client, token):
    hostile.on(AUTH_PATH, reply_json({"token": token, "expires_in_s": 3600}))
    hostile.on(HEARTBEAT_PATH, reply_json(SERVER_TIME))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.heartbeat("in_service"))
    assert isinstance(error, MalformedReply) and error.field == "token"
    assert not hostile.requests_to(HEARTBEAT_PATH)


def test_a_value_the_kiosk_cannot_encode_is_refused_before_anything_is_sent(hostile, make_hostile_client, payment):
    client = make_hostile_client()
    with pytest.raises(RequestNotSendable):
        client.lookup_account("electricity", "32011\ud800")
    with pytest.raises(RequestNotSendable) as caught:
        client.post_payment(payment(transaction_no="T0001-20261123-€"))
    assert "Idempotency-Key" in caught.value.detail
    assert not hostile.requests_to("/api/v1/accounts") and not hostile.requests_to("/api/v1/payments")


# --- Finding 8 (client half): no backend text in a detail or a log line -------

NAME_AND_ADDRESS = ("张小明", "小明", "中山路", "Zhang Xiaoming", "Xiaoming", "Zhongshan")


@pytest.fixture
def kiosk_log() -> list[logging.LogRecord]:
    """Every record of the kiosk's loggers, at DEBUG, before any filter."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("kiosk")
    handler, level = Keep(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def assert_nothing_personal(error: BackendError, records: list[logging.LogRecord]) -> None:
    texts = [error.detail, str(error), repr(error)]
    for record in records:
        texts.append(record.getMessage())
        texts += [str(value) for value in vars(record).values() if isinstance(value, str)]
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    for fragment in NAME_AND_ADDRESS:
        leaks = [text for text in texts if fragment in text]
        assert not leaks, f"{fragment!r} leaked into {leaks[0]!r}"


def test_an_error_message_naming_the_customer_stays_out_of_detail_and_log(hostile, make_hostile_client, kiosk_log):
    hostile.on(ACCOUNT_PATH, contract_error(
        410, "ACCOUNT_CLOSED", "张小明（南京市玄武区中山路123号）的账户已销户",
        "Account of Zhang Xiaoming, 123 Zhongshan Road, is closed"))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, AccountClosed) and "410 ACCOUNT_CLOSED" in error.detail
    assert_nothing_personal(error, kiosk_log)
    # The server's words are still there for the customer, in message_zh/message_en only.
    assert "张小明" in error.message_zh and "Zhang Xiaoming" in error.message_en


PAGES = {
    "HTML page titled with a name": (
        "text/html", "<html><head><title>张小明 南京市中山路123号</title></head><body>Zhang Xiaoming</body></html>"),
    "plain text naming the customer": ("text/plain", "Zhang Xiaoming lives at 123 Zhongshan Road"),
}


@pytest.mark.parametrize("page", PAGES, ids=list(PAGES))
def test_a_non_contract_error_page_is_described_not_quoted(hostile, make_hostile_client, kiosk_log, page):
    content_type, text = PAGES[page]
    hostile.on(ACCOUNT_PATH, reply(502, text.encode("utf-8"), {"Content-Type": content_type}))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, BackendServerError) and error.code == "HTTP_502"
    assert f"{len(text.encode('utf-8')):,} bytes" in error.detail
    assert_nothing_personal(error, kiosk_log)


def test_a_status_line_naming_the_customer_is_not_quoted(hostile, make_hostile_client, kiosk_log):
    hostile.on(ACCOUNT_PATH, lambda exchange: exchange.send(b"Zhang Xiaoming, 123 Zhongshan Road\r\n\r\n"))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, BackendUnreachable) and "BadStatusLine" in error.detail
    assert_nothing_personal(error, kiosk_log)


def test_a_name_where_a_code_belongs_is_masked_in_the_detail(hostile, make_hostile_client, kiosk_log):
    hostile.on(ACCOUNT_PATH, reply_json(account_body(*ACCOUNT, status="张小明住中山路")))
    client = make_hostile_client()
    error, _ = fails_in_time(lambda: client.lookup_account(*ACCOUNT))
    assert isinstance(error, MalformedReply) and error.field == "status"
    assert "(7 characters)" in error.detail
    assert_nothing_personal(error, kiosk_log)


def test_holder_and_address_are_masked_whatever_the_backend_sends(hostile, make_hostile_client):
    hostile.on(ACCOUNT_PATH, reply_json(account_body(
        *ACCOUNT, holder_masked="张小明", address_masked="南京市玄武区中山路123号")))
    account = make_hostile_client().lookup_account(*ACCOUNT)
    assert (account.holder_masked, account.address_masked) == ("张*明", "南京市玄武区**路**号")


def test_masking_leaves_what_the_backend_already_masked_unchanged():
    for seeded in seed_accounts("2026-10"):
        assert mask_name(seeded["holder_masked"]) == seeded["holder_masked"]
        assert mask_address(seeded["address_masked"]) == seeded["address_masked"]
    for raw in ("张小明", "Zhang Xiaoming", "江苏省南京市鼓楼区中山北路88号3栋501室", "12 Main Street"):
        assert mask_address(mask_address(raw)) == mask_address(raw)
        assert mask_name(mask_name(raw)) == mask_name(raw)
        assert "中山" not in mask_address(raw) and "Main" not in mask_address(raw)


# --- Finding 9: only the configured backend, nothing from the environment -------

PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def test_proxy_variables_in_the_environment_are_ignored(hostile, make_hostile_client, monkeypatch):
    hostile.on(HEARTBEAT_PATH, reply_json(SERVER_TIME))
    with HostileServer() as proxy:
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        assert make_hostile_client().heartbeat("in_service").server_time
        assert proxy.connections == 0, "billing traffic went to the proxy the environment named"
    assert [r.path for r in hostile.requests] == [AUTH_PATH, HEARTBEAT_PATH]


def test_netrc_credentials_are_not_sent(hostile, make_hostile_client, monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login kiosk password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    hostile.on(HEARTBEAT_PATH, reply_json(SERVER_TIME))
    make_hostile_client().heartbeat("in_service")
    sent = [r.headers.get("authorization", "") for r in hostile.requests]
    assert sent == ["", f"Bearer {HOSTILE_TOKEN}"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """A CA, a server certificate it signed for 127.0.0.1, and an unrelated CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key, issuer_name: str, issuer_key, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                           critical=False)
        )
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False,
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    files = {name: folder / f"{name}.pem" for name in ("ca", "other_ca", "server", "server_key")}
    files["ca"].write_bytes(pem(certificate("Utility test CA", ca_key, "Utility test CA", ca_key, ca=True)))
    files["other_ca"].write_bytes(pem(certificate("Other CA", other_key, "Other CA", other_key, ca=True)))
    files["server"].write_bytes(pem(certificate("billing", server_key, "Utility test CA", ca_key, ca=False)))
    files["server_key"].write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


@pytest.fixture
def tls_backend(tls_files):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files["server"], tls_files["server_key"])
    with HostileServer(tls=context) as server:
        server.on(AUTH_PATH, reply_json({"token": HOSTILE_TOKEN, "expires_in_s": 3600}))
        server.on(HEARTBEAT_PATH, reply_json(SERVER_TIME))
        yield server


def test_tls_trusts_the_configured_ca_and_no_bundle_the_environment_names(
    tls_backend, tls_files, make_hostile_client, monkeypatch
):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(name, str(tls_files["ca"]))
    with pytest.raises(BackendUnreachable) as caught:
        make_hostile_client(base_url=tls_backend.url, ca_file="").heartbeat("in_service")
    assert "SSLCertVerificationError [unable to get local issuer certificate]" in caught.value.detail
    with pytest.raises(BackendUnreachable):
        make_hostile_client(base_url=tls_backend.url, ca_file=str(tls_files["other_ca"])).heartbeat("in_service")
    configured = make_hostile_client(base_url=tls_backend.url, ca_file=str(tls_files["ca"]))
    assert configured.heartbeat("in_service").server_time


def test_no_tls_session_keys_are_written_where_the_environment_says(
    tls_backend, tls_files, make_hostile_client, monkeypatch, tmp_path
):
    key_log = tmp_path / "tls-keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(key_log))
    client = make_hostile_client(base_url=tls_backend.url, ca_file=str(tls_files["ca"]))
    assert client.heartbeat("in_service").server_time
    assert not key_log.exists() or key_log.stat().st_size == 0, "TLS session keys were written out"
