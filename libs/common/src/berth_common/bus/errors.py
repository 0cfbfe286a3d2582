"""Exceptions a handler raises to steer delivery, and the error a query returns."""

from __future__ import annotations


class Transient(Exception):
    """Try again later: the message is nak'ed with an exponential backoff delay.

    ``delay`` (seconds) overrides the computed backoff for this attempt. Retries
    stop at the handler's ``max_deliver``; the message is then dead-lettered.
    """

    def __init__(self, reason: str, *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class Poison(Exception):
    """The message can never succeed: terminate it and write a dead-letter record now."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class QueryError(Exception):
    """An error reply to a ``berth.api.*`` query: an HTTP-like ``code`` and a ``detail``."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class NotConnected(RuntimeError):
    """The bus was used before ``connect()`` or after ``close()``."""
