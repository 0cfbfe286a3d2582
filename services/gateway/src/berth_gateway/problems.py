"""RFC 9457 problem details: every error the gateway answers is application/problem+json."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

PROBLEM_TYPE = "application/problem+json"


class ApiError(Exception):
    """An error answer: HTTP ``status``, a short ``title`` and a human ``detail``."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.extra = extra or {}  # RFC 9457 extension members (e.g. the operation a 503 left behind)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers or {}

    def body(self, *, instance: str = "", request_id: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            out["instance"] = instance
        if request_id:
            out["request_id"] = request_id
        if self.errors is not None:
            out["errors"] = self.errors
        return {**self.extra, **out}


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def problem_response(err: ApiError, *, instance: str = "", request_id: str = "") -> web.Response:
    return web.json_response(
        err.body(instance=instance, request_id=request_id),
        status=err.status,
        content_type=PROBLEM_TYPE,
        headers=err.headers,
    )


def field_errors(exc: ValidationError, *, prefix: str = "", strip: str = "") -> list[dict[str, str]]:
    """pydantic errors as ``[{field, message}]`` with dotted field paths (``network.pod_cidr``)."""
    out = []
    for err in exc.errors(include_url=False):
        parts = list(err["loc"])
        if strip and parts and parts[0] == strip:
            parts = parts[1:]
        loc = ".".join(str(p) for p in parts)
        cause = (err.get("ctx") or {}).get("error")
        named = getattr(cause, "errors", None)
        if isinstance(named, list):  # a cross-field check that names each field (an error with .errors)
            for name, message in named:
                out.append({"field": f"{loc}.{name}" if loc else name, "message": message})
            continue
        field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "body")
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append({"field": field, "message": msg})
    return out


def invalid(exc: ValidationError, *, prefix: str = "", what: str = "request body", strip: str = "") -> ApiError:
    errors = field_errors(exc, prefix=prefix, strip=strip)
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return ApiError(422, f"invalid {what}: {names}", errors=errors)
