"""Blocking readiness probes used while a fixture waits for its server."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request


def insecure_tls() -> ssl.SSLContext:
    """For probing components' self-signed health ports; never for the data path."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def http_status(url: str, *, context: ssl.SSLContext | None = None, timeout: float = 2.0) -> int:
    """The HTTP status of GET url (4xx/5xx included); raises OSError when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def http_ok(url: str, *, context: ssl.SSLContext | None = None, expect: tuple[int, ...] = (200,)) -> bool:
    try:
        return http_status(url, context=context) in expect
    except OSError:
        return False
