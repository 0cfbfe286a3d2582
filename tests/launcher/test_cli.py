"""The CLI's first minutes: what it sends is what the API accepts (each body is validated against
the gateway route's own body model), login picks a default tenant, `cluster create` picks a
provider that works here, and node pools can be created from flags or a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import berth_schema.cluster
import berth_schema.node
import pytest
from berth_gateway.problems import ApiError
from berth_gateway.routes import ROUTES
from fake_gateway import FakeGateway, Seen, fake_gateway

from berth.certs import GatewayTls, gateway_tls


def check_body(method: str, path: str, body: dict[str, Any], **path_values: str) -> None:
    """The body passes the gateway's own check for that route: no field it does not know, and
    the model it validates with accepts it (the schema command with the path filled in, or the
    route's form)."""
    route = next((r for r in ROUTES if r.method == method and r.path == path), None)
    assert route is not None, f"the gateway has no {method} {path} route"
    try:
        from berth_gateway.bodies import body_of
    except ImportError:  # a gateway whose bodies are the routes' own models
        assert route.body is not None, f"{method} {path} takes no body"
        route.body.model_validate(body)
        return
    assert berth_schema.cluster and berth_schema.node  # imported: their commands are registered
    spec = body_of(route)
    try:
        spec.read(dict(body), what="body")
    except ApiError as exc:
        raise AssertionError(f"the gateway refuses {body}: {exc}") from None
    if spec.source is not None and not route.wrap:
        spec.source.model_validate({**body, **path_values, "tenant": "t1"})


def berth(fake: FakeGateway, tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    env.update(BERTH_CONFIG=str(tmp_path / "cli.json"), BERTH_TOKEN="t0ken", BERTH_SERVER=fake.url)
    return subprocess.run(
        [sys.executable, "-m", "berth", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
        check=False,
    )


def only_write(fake: FakeGateway) -> Seen:
    writes = fake.writes()
    assert len(writes) == 1, writes
    return writes[0]


def test_namespace_create_sends_what_the_api_accepts(tmp_path: Path) -> None:
    with fake_gateway() as fake:
        done = berth(fake, tmp_path, "namespace", "create", "web", "-c", "demo", "--isolated", "--tenant", "t1")
    assert done.returncode == 0, done.stderr
    sent = only_write(fake)
    assert (sent.method, sent.path) == ("POST", "/api/v1/clusters/demo/namespaces")
    assert sent.body == {"name": "web", "description": "", "isolated": True}
    check_body("POST", "/api/v1/clusters/{cluster}/namespaces", sent.body, cluster="demo")


def test_pool_create_from_flags(tmp_path: Path) -> None:
    with fake_gateway() as fake:
        done = berth(
            fake,
            tmp_path,
            *("pool", "create", "workers", "-c", "demo", "--flavour", "2c4g", "--count", "3", "--zone", "zone-b"),
            *("--label", "team=web", "--max-pods", "64", "--tenant", "t1"),
        )
    assert done.returncode == 0, done.stderr
    sent = only_write(fake)
    assert (sent.method, sent.path) == ("POST", "/api/v1/clusters/demo/nodepools")
    assert sent.headers.get("X-Berth-Tenant") == "t1"
    assert sent.body == {
        "name": "workers",
        "flavour": "2c4g",
        "count": 3,
        "zone": "zone-b",
        "max_pods": 64,
        "labels": {"team": "web"},
    }
    check_body("POST", "/api/v1/clusters/{cluster}/nodepools", sent.body, cluster="demo")
    assert "succeeded" in done.stdout


def test_pool_create_from_a_file_with_flags_overriding_it(tmp_path: Path) -> None:
    spec = tmp_path / "pool.yaml"
    spec.write_text("name: batch\nflavour: 4c8g\ncount: 2\nlabels: {tier: batch}\n")
    with fake_gateway() as fake:
        done = berth(
            fake,
            tmp_path,
            *("pool", "create", "-f", str(spec), "-c", "demo", "--count", "5", "--label", "team=data"),
            *("--autoscale-min", "1", "--autoscale-max", "8", "--no-wait"),
        )
    assert done.returncode == 0, done.stderr
    sent = only_write(fake)
    assert sent.body == {
        "name": "batch",
        "flavour": "4c8g",
        "count": 5,
        "labels": {"tier": "batch", "team": "data"},
        "autoscaling": {"enabled": True, "min_count": 1, "max_count": 8},
    }
    check_body("POST", "/api/v1/clusters/{cluster}/nodepools", sent.body, cluster="demo")


def test_pool_create_without_a_flavour_says_what_is_missing(tmp_path: Path) -> None:
    with fake_gateway() as fake:
        done = berth(fake, tmp_path, "pool", "create", "workers", "-c", "demo")
    assert done.returncode == 2
    assert "missing flavour" in done.stderr
    assert not fake.writes()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"default_provider": "local", "providers": ["local"]}, "local"),
        ({"providers": ["local"]}, "local"),
        ({"versions": ["v1.31.0"]}, None),  # the platform does not say: the server's default applies
    ],
)
def test_cluster_create_defaults_to_the_provider_the_platform_offers(
    tmp_path: Path, options: dict[str, Any], expected: str | None
) -> None:
    with fake_gateway() as fake:
        fake.replies[("GET", "/api/v1/cluster-options")] = (200, options)
        done = berth(fake, tmp_path, "cluster", "create", "demo", "--no-wait", "--tenant", "t1")
    assert done.returncode == 0, done.stderr
    sent = only_write(fake)
    assert sent.body.get("provider") == expected
    check_body("POST", "/api/v1/clusters", sent.body)


def test_cluster_create_keeps_an_explicit_provider(tmp_path: Path) -> None:
    with fake_gateway() as fake:
        fake.replies[("GET", "/api/v1/cluster-options")] = (200, {"default_provider": "local"})
        done = berth(fake, tmp_path, "cluster", "create", "demo", "--provider", "hosted", "--no-wait")
    assert done.returncode == 0, done.stderr
    assert only_write(fake).body["provider"] == "hosted"


@pytest.mark.parametrize(
    ("tenants", "expected"),
    [(["default", "other"], "default"), (["solo"], "solo"), (["a", "b"], "")],
)
def test_login_saves_a_default_tenant(tmp_path: Path, tenants: list[str], expected: str) -> None:
    with fake_gateway() as fake:
        fake.replies[("GET", "/api/v1/whoami")] = (200, {"user": "admin", "via": "token", "bindings": []})
        fake.replies[("GET", "/api/v1/tenants")] = (200, {"items": [{"name": t} for t in tenants]})
        done = berth(fake, tmp_path, "login", "--server", fake.url, "--token-stdin", stdin="t0ken\n")
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "cli.json").read_text())
    assert saved["tenant"] == expected
    assert saved["server"] == fake.url


def _tls(tmp_path: Path, name: str) -> GatewayTls:
    (tmp_path / name).mkdir()
    return gateway_tls(tmp_path / name, "127.0.0.1")


def test_login_over_https_saves_the_ca_and_later_commands_verify_with_it(tmp_path: Path) -> None:
    tls = _tls(tmp_path, "up-data")
    with fake_gateway(tls=(tls.cert_file, tls.key_file)) as fake:
        fake.replies[("GET", "/api/v1/whoami")] = (200, {"user": "admin", "via": "token", "bindings": []})
        fake.replies[("GET", "/api/v1/tenants")] = (200, {"items": [{"name": "default"}]})
        assert fake.url.startswith("https://")
        args = ("login", "--server", fake.url, "--ca-file", str(tls.ca_file), "--token-stdin")
        done = berth(fake, tmp_path, *args, stdin="t0ken\n")
        assert done.returncode == 0, done.stderr
        saved = json.loads((tmp_path / "cli.json").read_text())
        assert saved["ca_file"] == str(tls.ca_file.resolve()) and saved["server"] == fake.url
        done = berth(fake, tmp_path, "whoami")  # the saved CA, nothing else
        assert done.returncode == 0, done.stderr
        assert "admin" in done.stdout


def test_a_gateway_the_ca_did_not_sign_is_a_clear_error(tmp_path: Path) -> None:
    tls, other = _tls(tmp_path, "up-data"), _tls(tmp_path, "other")
    with fake_gateway(tls=(tls.cert_file, tls.key_file)) as fake:
        fake.replies[("GET", "/api/v1/whoami")] = (200, {"user": "admin", "via": "token", "bindings": []})
        wrong = berth(fake, tmp_path, "login", "--server", fake.url, "--ca-file", str(other.ca_file), "--token-stdin")
        none = berth(fake, tmp_path, "login", "--server", fake.url, "--token-stdin", stdin="t0ken\n")
    for done, trusted in ((wrong, f"the CA in {other.ca_file.resolve()}"), (none, "the system's CAs")):
        assert done.returncode == 1
        assert "cannot verify the Berth gateway's TLS certificate" in done.stderr, done.stderr
        assert trusted in done.stderr and "--ca-file" in done.stderr
    assert not fake.seen, "nothing reached the gateway: the token was never sent to it"
    assert not (tmp_path / "cli.json").exists()


def test_namespace_list_says_how_many_more_can_be_created(tmp_path: Path) -> None:
    with fake_gateway() as fake:
        page = {"items": [{"name": "web", "status": "Active", "isolated": True}], "remaining": 97}
        fake.replies[("GET", "/api/v1/clusters/demo/namespaces")] = (200, page)
        done = berth(fake, tmp_path, "namespace", "list", "-c", "demo")
    assert done.returncode == 0, done.stderr
    assert "97 more namespaces" in done.stderr
    header, row = done.stdout.splitlines()[:2]
    assert "ISOLATED" in header and "True" in row
