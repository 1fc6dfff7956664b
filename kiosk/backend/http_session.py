"""The HTTP session the client talks through: guarded connections, a TLS
context of its own, and nothing taken from the environment.

Its own module because it is set up once per client and holds the security
promise of docs/api.md section 5 (no proxy, CA bundle, netrc or TLS key log
from the environment), which a reviewer should find in one place.
"""

from __future__ import annotations

import ssl
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from kiosk.backend.call_guard import _GuardedHTTPPool, _GuardedHTTPSPool


class _GuardedAdapter(HTTPAdapter):
    """requests' adapter on guarded connections and the client's own TLS context."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context  # before super(): its __init__ builds the pool manager
        super().__init__(max_retries=0)  # the client retries, urllib3 never does

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, ssl_context=self._ssl_context, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def _tls_context() -> ssl.SSLContext:
    """A TLS client context that reads nothing from the environment.

    Built by hand: ``ssl.create_default_context()`` and urllib3's own context
    honour ``SSLKEYLOGFILE`` (the session keys of every connection, the
    terminal's secret with them, written to a file the environment names),
    and ``load_default_certs()`` honours ``SSL_CERT_FILE``/``SSL_CERT_DIR``.
    It starts with no CA at all: urllib3 loads the one ``verify`` names --
    ``ca_file``, or certifi's bundle -- into it for each connection.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificate and host name
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _isolated_session(app_version: str) -> requests.Session:
    session = requests.Session()
    # Only the configured backend (MISSION.md rule 9): with trust_env, requests
    # takes proxies from http_proxy/HTTPS_PROXY/ALL_PROXY (the terminal's
    # secret would go to whatever they name), a CA bundle from
    # REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE and credentials from ~/.netrc or $NETRC.
    session.trust_env = False
    session.proxies.clear()
    session.headers.clear()
    session.headers.update({
        "Accept": "application/json",
        # What _Inflater decodes; requests would also offer br or zstd when
        # their modules happen to be installed.
        "Accept-Encoding": "gzip, deflate",
        "User-Agent": f"utility-kiosk/{app_version}",
        "Connection": "keep-alive",
    })
    adapter = _GuardedAdapter(_tls_context())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session

