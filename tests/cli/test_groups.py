"""One command per resource group as a person types it: the request it sends (checked with the
gateway's own body rules) and what it prints."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_run import check_body, run
from fake_gateway import FakeGateway, fake_gateway

OP = {"id": "op-7", "kind": "x", "target": "t", "state": "running", "message": "", "steps": []}


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGateway]:
    for key in [k for k in os.environ if k.startswith("BERTH_")]:
        monkeypatch.delenv(key)
    with fake_gateway() as gw:
        monkeypatch.setenv("BERTH_CONFIG", str(tmp_path / "cli.json"))
        monkeypatch.setenv("BERTH_TOKEN", "t0ken")
        monkeypatch.setenv("BERTH_SERVER", gw.url)
        monkeypatch.setenv("BERTH_TENANT", "acme")
        yield gw


# argv, (method, path), the body sent (None: no body), the route's template for the body check
WRITES: list[tuple[list[str], tuple[str, str], dict[str, Any] | None]] = [
    (
        ["addon", "create", "metrics-server", "-c", "demo", "--set", "values.replicas=2"],
        ("POST", "/api/v1/clusters/demo/addons"),
        {"addon": "metrics-server", "values": {"replicas": 2}},
    ),
    (
        ["kubeconfig", "revoke", "-c", "demo", "--user", "alice"],
        ("POST", "/api/v1/clusters/demo/kubeconfigs:revoke"),
        {"user": "alice"},
    ),
    (
        ["workload", "scale", "web", "-c", "demo", "-n", "shop", "--replicas", "5"],
        ("POST", "/api/v1/clusters/demo/namespaces/shop/workloads/web:scale"),
        {"replicas": 5},
    ),
    (
        ["registry", "create", "hub", "--url", "https://hub.example.com", "--kind", "harbor", "--insecure"],
        ("POST", "/api/v1/registries"),
        {"name": "hub", "url": "https://hub.example.com", "kind": "harbor", "insecure": True},
    ),
    (
        ["policy", "run", "mirror", "--dry-run", "--only", "library/nginx,library/redis"],
        ("POST", "/api/v1/replication-policies/mirror:run"),
        {"dry_run": True, "only": ["library/nginx", "library/redis"]},
    ),
    (["execution", "retry", "exec-1"], ("POST", "/api/v1/replication-executions/exec-1:retry"), None),
    (
        ["registry-pair", "switch", "hub-pair", "--reason", "primary down"],
        ("POST", "/api/v1/registry-dr-pairs/hub-pair:switch"),
        {"reason": "primary down"},
    ),
    (
        ["release", "rollback", "web", "--to-revision", "3", "--reason", "bad"],
        ("POST", "/api/v1/releases/web:rollback"),
        {"to_revision": 3, "reason": "bad"},
    ),
    (["template", "delete", "web-tpl"], ("DELETE", "/api/v1/templates/web-tpl"), None),
    (
        ["config", "rollback", "web-env", "--environment", "prod", "--to-version", "1"],
        ("POST", "/api/v1/configs/web-env:rollback"),
        {"environment": "prod", "to_version": 1},
    ),
    (
        ["route", "update", "critical", "--channels", "ops,sre", "--order", "1", "--no-continue"],
        ("PUT", "/api/v1/alert-routes/critical"),
        {"channels": ["ops", "sre"], "order": 1, "continue": False},
    ),
    (["silence", "expire", "s-1"], ("POST", "/api/v1/silences/s-1:expire"), {}),
    (["alert", "ack", "fp1", "--comment", "on it"], ("POST", "/api/v1/alerts/fp1:ack"), {"comment": "on it"}),
    (["scaling-policy", "delete", "cpu-up"], ("DELETE", "/api/v1/scaling-policies/cpu-up"), None),
    (
        ["dr", "drill", "shop", "--reason", "quarterly", "--duration-seconds", "60"],
        ("POST", "/api/v1/dr-groups/shop:drill"),
        {"reason": "quarterly", "duration_seconds": 60},
    ),
    (["cluster", "retry", "demo"], ("POST", "/api/v1/clusters/demo:retry"), None),
    (
        ["namespace", "update", "web", "-c", "demo", "--quota", "requests.cpu=4", "--no-isolated"],
        ("PUT", "/api/v1/clusters/demo/namespaces/web/quota"),
        {"quota": {"requests.cpu": "4"}, "isolated": False},
    ),
    (
        ["namespace", "quota", "web", "-c", "demo", "--set", "requests.cpu=4"],
        ("PUT", "/api/v1/clusters/demo/namespaces/web/quota"),
        {"quota": {"requests.cpu": "4"}},
    ),
    (
        ["node", "label", "-c", "demo", "--nodes", "n1,n2", "--set", "team=web", "--remove", "old"],
        ("POST", "/api/v1/clusters/demo/nodes:labels"),
        {"nodes": ["n1", "n2"], "set": {"team": "web"}, "remove": ["old"]},
    ),
    (["tenant", "set-limits", "acme", "--clusters", "5"], ("PUT", "/api/v1/tenants/acme/limits"), {"clusters": 5}),
]


@pytest.mark.parametrize(("argv", "call", "body"), WRITES, ids=[" ".join(w[0][:2]) for w in WRITES])
def test_write_commands(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str], argv: list[str], call: tuple[str, str], body: Any
) -> None:
    fake.replies[call] = (202, {"operation": OP})
    done = run(capsys, *argv)
    assert done.code == 0, done.err
    sent = fake.writes()
    assert len(sent) == 1 and (sent[0].method, sent[0].path) == call
    assert sent[0].body == body
    assert sent[0].headers["X-Berth-Tenant"] == "acme"
    if body is not None:
        check_body(*call, body)
    # waited for the operation: progress on stderr, the finished operation on stdout
    assert "[" + "#" * 30 + "] succeeded" in done.err
    assert "op-7" in done.out and "succeeded" in done.out


def test_create_from_a_file_with_flags_winning(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "channel.yaml"
    spec.write_text("name: ops\nkind: slack\nurl: https://hooks.slack.com/x\nmentions: [alice]\n")
    fake.replies[("POST", "/api/v1/channels")] = (201, {"name": "ops", "kind": "slack"})
    done = run(capsys, "channel", "create", "-f", str(spec), "--url", "https://hooks.slack.com/y", "-o", "json")
    assert done.code == 0, done.err
    (sent,) = fake.writes()
    assert sent.body == {"name": "ops", "kind": "slack", "url": "https://hooks.slack.com/y", "mentions": ["alice"]}
    check_body("POST", "/api/v1/channels", sent.body)
    assert json.loads(done.out) == {"name": "ops", "kind": "slack"}


def test_update_takes_the_name_from_the_file(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "dr.json"
    spec.write_text(json.dumps({"name": "shop", "primary": {"cluster": "east"}, "standby": {"cluster": "west"}}))
    done = run(capsys, "dr", "update", "-f", str(spec), "--no-wait")
    assert done.code == 0, done.err
    (sent,) = fake.writes()
    assert (sent.method, sent.path) == ("PUT", "/api/v1/dr-groups/shop")
    assert sent.body == {"primary": {"cluster": "east"}, "standby": {"cluster": "west"}}
    check_body("PUT", "/api/v1/dr-groups/{group}", sent.body)
    assert "op-1" in done.out  # --no-wait: the operation at once


def test_a_refused_body_prints_the_field_errors(fake: FakeGateway, capsys: pytest.CaptureFixture[str]) -> None:
    problem = {"detail": "invalid body: min", "errors": [{"field": "min", "message": "must be <= max"}]}
    fake.replies[("POST", "/api/v1/scaling-policies")] = (422, problem)
    done = run(capsys, "scaling-policy", "create", "up", "--min", "5", "--max", "2", "--set", "target.pool=w")
    assert done.code == 1
    assert "min: must be <= max" in done.err and "(HTTP 422)" in done.err


READS: list[tuple[list[str], str, Any, str]] = [
    (["registry", "list"], "/api/v1/registries", {"items": [{"name": "hub", "kind": "harbor", "url": "u"}]}, "hub"),
    (
        ["execution", "list", "--policy", "mirror"],
        "/api/v1/replication-executions?limit=200&policy=mirror"[:0] + "/api/v1/replication-executions",
        {"items": [{"id": "e1", "status": "Succeeded"}]},
        "Succeeded",
    ),
    (["release", "get", "web"], "/api/v1/releases/web", {"name": "web", "phase": "Progressing"}, "Progressing"),
    (
        ["config", "diff", "web-env", "--environment", "prod", "--from", "1", "--to", "2"],
        "/api/v1/configs/web-env/diff",
        {"changes": [{"key": "LOG_LEVEL"}]},
        "LOG_LEVEL",
    ),
    (["rulepack", "get", "demo"], "/api/v1/rule-packs/demo", {"groups": [{"name": "berth.nodes"}]}, "berth.nodes"),
    (["tenant", "list"], "/api/v1/tenants", {"items": [{"name": "acme", "display_name": "ACME"}]}, "ACME"),
    (["member", "list"], "/api/v1/tenants/acme/members", {"items": [{"user": "alice", "role": "viewer"}]}, "alice"),
    (["token", "list"], "/api/v1/tokens", {"items": [{"id": "tk1", "name": "ci"}]}, "tk1"),
    (["operation", "get", "op-9"], "/api/v1/operations/op-9", {"id": "op-9", "state": "succeeded"}, "op-9"),
    (["audit", "list"], "/api/v1/audit", {"items": [{"user": "alice", "action": "cluster-manager.create"}]}, "alice"),
    (["service", "list"], "/api/v1/services", {"items": [{"name": "gateway", "status": "up"}]}, "gateway"),
    (["notification", "dead-letters"], "/api/v1/dead-letters", {"items": [{"id": "n1", "channel": "ops"}]}, "ops"),
    (["dr", "history", "shop"], "/api/v1/dr-groups/shop/switch-history", {"items": [{"id": "sw1"}]}, "sw1"),
    (["silence", "list"], "/api/v1/silences", {"items": [{"id": "s1", "comment": "maint"}]}, "maint"),
    (["alert", "list", "--status", "firing"], "/api/v1/alerts", {"items": [{"fingerprint": "fp1"}]}, "fp1"),
    (["kubeconfig", "list", "-c", "demo"], "/api/v1/clusters/demo/kubeconfigs", {"items": [{"user": "bob"}]}, "bob"),
    (["addon", "get", "dns", "-c", "demo"], "/api/v1/clusters/demo/addons/dns", {"name": "dns", "status": "ok"}, "dns"),
    (["template", "list"], "/api/v1/templates", {"items": [{"name": "web-tpl", "visibility": "public"}]}, "public"),
    (["channel", "get", "ops"], "/api/v1/channels/ops", {"name": "ops", "kind": "slack"}, "slack"),
    (["route", "list"], "/api/v1/alert-routes", {"items": [{"name": "critical", "order": 1}]}, "critical"),
    (["scaling-policy", "get", "up"], "/api/v1/scaling-policies/up", {"name": "up", "min": 1}, "up"),
    (["registry-pair", "get", "hp"], "/api/v1/registry-dr-pairs/hp", {"name": "hp", "lag_seconds": 4}, "4"),
    (["policy", "get", "mirror"], "/api/v1/replication-policies/mirror", {"name": "mirror", "mode": "push"}, "push"),
    (["cluster", "options", "-o", "yaml"], "/api/v1/cluster-options", {"versions": ["v1.31.0"]}, "- v1.31.0"),
]


@pytest.mark.parametrize(("argv", "path", "reply", "shown"), READS, ids=[" ".join(r[0][:2]) for r in READS])
def test_read_commands(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str], argv: list[str], path: str, reply: Any, shown: str
) -> None:
    fake.replies[("GET", path)] = (200, reply)
    done = run(capsys, *argv)
    assert done.code == 0, done.err
    gets = [s.path for s in fake.seen if s.method == "GET"]
    assert [p.split("?")[0] for p in gets] == [path]
    assert shown in done.out
    query = gets[0].partition("?")[2]
    for i, word in enumerate(argv):
        if word.startswith("--") and word not in ("--status",) and argv[i - 1] not in ("-c",):
            assert word[2:].replace("-", "_") + "=" in query, query
    if "--status" in argv:
        assert "status=firing" in query


def test_output_formats(fake: FakeGateway, capsys: pytest.CaptureFixture[str]) -> None:
    page = {"items": [{"name": "hub", "kind": "harbor", "url": "https://hub", "health": "ok"}]}
    fake.replies[("GET", "/api/v1/registries")] = (200, page)
    table = run(capsys, "registry", "list").out.splitlines()
    assert table[0].split() == ["NAME", "KIND", "URL", "HEALTH"] and table[1].split() == [
        "hub",
        "harbor",
        "https://hub",
        "ok",
    ]
    assert json.loads(run(capsys, "registry", "list", "-o", "json").out) == page["items"]
    assert yaml.safe_load(run(capsys, "registry", "list", "-o", "yaml").out) == page["items"]


def test_member_and_token_create_on_the_gateways_own_routes(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.replies[("POST", "/api/v1/tenants/acme/members")] = (201, {"user": "alice", "role": "developer"})
    fake.replies[("POST", "/api/v1/tokens")] = (201, {"id": "tk1", "name": "ci", "token": "berth_x", "expires_at": "z"})
    assert run(capsys, "member", "add", "alice", "--role", "developer").code == 0
    done = run(capsys, "token", "create", "ci", "--expires-in-days", "30")
    assert done.code == 0 and "token: berth_x" in done.out
    from berth_gateway.models import MemberBind, TokenCreate

    member, token = fake.writes()
    MemberBind.model_validate(member.body)
    TokenCreate.model_validate(token.body)
    assert member.body == {"user": "alice", "role": "developer"} and token.body == {"name": "ci", "expires_in_days": 30}


def test_progress_prints_each_step(fake: FakeGateway, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [{"step": "control-plane", "message": "etcd up"}, {"step": "nodes", "message": "3 ready"}]
    fake.replies[("GET", "/api/v1/operations/op-7")] = (200, {**OP, "state": "succeeded", "steps": steps})
    fake.replies[("POST", "/api/v1/dr-groups/shop:switchover")] = (202, {"operation": OP})
    done = run(capsys, "dr", "switchover", "shop", "--reason", "maintenance")
    assert done.code == 0, done.err
    assert "  - control-plane: etcd up\n  - nodes: 3 ready\n" in done.err


def test_a_failed_operation_exits_non_zero(fake: FakeGateway, capsys: pytest.CaptureFixture[str]) -> None:
    fake.replies[("GET", "/api/v1/operations/op-7")] = (200, {**OP, "state": "failed", "message": "quota exceeded"})
    fake.replies[("POST", "/api/v1/clusters/demo/addons")] = (202, {"operation": OP})
    done = run(capsys, "addon", "create", "dns", "-c", "demo")
    assert done.code == 1 and "failed: quota exceeded" in done.err


def test_completion_scripts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import shutil
    import subprocess

    bash = run(capsys, "completion", "bash").out
    assert "complete -o default -F _berth_complete berth" in bash
    assert "        dr) words='list get create update delete switchover" in bash
    assert "bashcompinit" in run(capsys, "completion", "zsh").out
    if shutil.which("bash"):
        script = tmp_path / "c.sh"
        script.write_text(
            bash + 'COMP_WORDS=(berth dr sw); COMP_CWORD=2; _berth_complete; echo "${COMPREPLY[@]}"\n'
            'COMP_WORDS=(berth registry create --u); COMP_CWORD=3; _berth_complete; echo "${COMPREPLY[@]}"\n'
        )
        out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True).stdout.splitlines()
        assert out == ["switchover", "--url --username"]


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    done = run(capsys, "dr", "drill", "--help")
    assert done.code == 0
    assert "examples:\n  berth dr drill shop --reason 'quarterly drill'" in done.out
    assert "POST /api/v1/dr-groups/{group}:drill" in done.out
