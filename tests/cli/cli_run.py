"""Running `berth` in-process as a person would (argv in, exit code and output out), and checking
what it sent against the gateway's route table and body rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import berth_schema
import pytest
from berth_gateway.bodies import body_of
from berth_gateway.problems import ApiError
from berth_gateway.routes import ROUTES, Route

from berth.cli import main

assert berth_schema.DOMAINS  # the schema's commands are registered: bodies come from them


@dataclass
class Ran:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    capsys.readouterr()
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return Ran(code, out.out, out.err)


def template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"({\w+})", path)
    return re.compile("^" + "".join("[^/:]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def route_of(method: str, path: str) -> Route:
    bare = path.split("?", 1)[0]
    found = [r for r in ROUTES if r.method == method and template_regex(r.path).match(bare)]
    assert found, f"the gateway has no route for {method} {bare}"
    return max(found, key=lambda r: len(r.path))  # the literal suffix wins (nodes:labels over nodes/{node})


def check_body(method: str, path: str, body: Any) -> None:
    """The gateway accepts these fields for the route (no unknown field; the schema model, with
    the path filled in, validates them where the route is not wrapped)."""
    route = route_of(method, path)
    spec = body_of(route)
    try:
        spec.read(dict(body or {}), what="body")
    except ApiError as exc:
        raise AssertionError(f"{method} {path}: the gateway refuses {body}: {exc} {exc.errors}") from None
