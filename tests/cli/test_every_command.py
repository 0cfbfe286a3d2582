"""Every table-driven command (catalog/) runs against the fake gateway as a person would type it:
it calls the gateway route it declares, with the tenant header, and every flag it offers names a
body field the gateway accepts for that route."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from berth_gateway.bodies import body_of
from cli_run import route_of, run, template_regex
from fake_gateway import FakeGateway, fake_gateway

from berth.commands.catalog import RESOURCES
from berth.commands.spec import Flag, Resource, Verb

SAMPLE = {"str": "v1", "int": "1", "float": "1.5", "list": "a1", "map": "k1=v1", "yaml": "v1"}


def sample_argv(res: Resource, verb: Verb) -> list[str]:
    argv = [res.name, verb.name]
    if verb.positional or verb.name_field:
        argv.append("x1")
    for scope in verb.scope:
        argv += [f"--{scope.replace('_', '-')}", f"{scope[:2]}1"]
    for flag in verb.flags:
        argv += [flag.option] if flag.type == "bool" else [flag.option, _sample(flag)]
    argv += ["--tenant", "t1"]
    if verb.kind == "write":
        argv.append("--no-wait")
    return argv


def _sample(flag: Flag) -> str:
    return flag.choices[0] if flag.choices else SAMPLE[flag.type]


def expected_path(verb: Verb) -> str:
    values = {p: ("x1" if p == verb.positional else "t1" if p == "tenant" else f"{p[:2]}1") for p in verb.params}
    return verb.path.format(**values)


CASES = [(res, verb) for res in RESOURCES for verb in res.verbs]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGateway]:
    with fake_gateway() as gw:
        yield gw


@pytest.fixture(autouse=True)
def env(fake: FakeGateway, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("BERTH_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BERTH_CONFIG", f"{tmp_path}/cli.json")
    monkeypatch.setenv("BERTH_TOKEN", "t0ken")
    monkeypatch.setenv("BERTH_SERVER", fake.url)


@pytest.mark.parametrize(("res", "verb"), CASES, ids=[f"{r.name}-{v.name}" for r, v in CASES])
def test_command_calls_its_route(
    res: Resource, verb: Verb, fake: FakeGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.seen.clear()
    path = expected_path(verb)
    item = {"name": "x1", "id": "x1", **{c: "x1" for c in verb.columns or res.columns}}
    if verb.kind == "list":
        fake.replies[("GET", path)] = (200, {"items": [item], "next_cursor": None})
    elif verb.kind == "get":
        fake.replies[("GET", path)] = (200, item)
    done = run(capsys, *sample_argv(res, verb))
    assert done.code == 0, done.err
    polls = "/api/v1/operations/" if not verb.path.startswith("/api/v1/operations/") else "-"
    sent = [s for s in fake.seen if not s.path.startswith(polls)]
    assert len(sent) == 1, sent
    assert sent[0].method == verb.method
    assert template_regex(verb.path).match(sent[0].path.split("?", 1)[0]), sent[0].path
    assert sent[0].path.split("?", 1)[0] == path
    assert sent[0].headers.get("X-Berth-Tenant") == "t1"
    if verb.kind != "write":
        query = sent[0].path.partition("?")[2]
        assert all(f"{f.field}=" in query for f in verb.flags), query
        assert "x1" in done.out
        return
    if verb.method == "POST":
        assert sent[0].headers.get("Idempotency-Key")
    assert "op-1" in done.out  # the fake's 202: --no-wait prints the operation
    if path.startswith(("/api/v1/tenants", "/api/v1/tokens", "/api/v1/chat-bindings")):
        return  # the gateway's own resources (local.py): checked by hand in test_groups.py
    route = route_of(verb.method, sent[0].path)
    unknown = body_of(route).unknown(sent[0].body or {})
    assert not unknown, f"{verb.method} {verb.path}: {unknown}"
    if verb.flags:
        sent_fields = set((sent[0].body or {}).get(verb.wrap, sent[0].body) or {})
        assert {f.field for f in verb.flags} <= sent_fields | {verb.name_field}
