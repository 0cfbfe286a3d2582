"""Berth as it ships: each service's environment built exactly as its image builds it (`uv sync
--frozen --no-dev --no-editable --package berth-<service>` into a directory of its own), every
service started from its own environment's console script with the settings the Helm chart gives
it (rendered by `helm template`), on a real nats-server and a MongoDB-protocol store, and real
user flows driven through the gateway over HTTP with the admin token.

Every write is read back through the gateway (so the owning service applied it), every create
also gets a bad body that must be refused with a 4xx naming the field. A flow that fails names
the exact HTTP answer. Everything started here is stopped in the fixtures' finalizers, also when
a flow fails (and the testkit's end-of-session check fails the run if anything is left).

Run it alone: `uv run --frozen pytest -q tests/e2e/test_shipped_images.py` (first run builds the
seven environments, ~20 s; later runs reuse them until uv.lock or a source file changes)."""

from __future__ import annotations

import asyncio
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from berth_testkit.mongo import MongoServer
from berth_testkit.oci import push_image
from berth_testkit.registry import Registry

sys.path.insert(0, str(Path(__file__).parent))

from shipped.api import Api, Reply, items, receiver
from shipped.chart import chart_settings
from shipped.images import SERVICES, Image, build_images, package
from shipped.stack import ChartNats, ShippedStack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

TENANT = "shipped"
CLUSTER = "demo"
HOOKS_TOKEN = "hooks" + uuid.uuid4().hex


# --- the platform as it ships ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def images() -> dict[str, Image]:
    return build_images()


@pytest.fixture(scope="module")
def stack(
    images: dict[str, Image], mongo: MongoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShippedStack]:
    work = tmp_path_factory.mktemp("shipped")
    nats = ChartNats(work / "nats")
    shipped: ShippedStack | None = None
    try:
        nats.start()
        shipped = ShippedStack(
            work=work,
            images=images,
            # the chart generates the gateway's hook token into a Secret; here it is this test's
            charts=chart_settings(),
            hooks_token=HOOKS_TOKEN,
            nats=nats,
            store_url=mongo.url,
            database=f"shipped_{uuid.uuid4().hex[:10]}",
        )
        shipped.start()
        yield shipped
    finally:
        if shipped is not None:
            shipped.stop()
        nats.stop()


@pytest.fixture(scope="module")
def api(stack: ShippedStack) -> Api:
    return Api(stack.url, stack.admin_token, ca_file=str(stack.tls.ca_file))


@pytest.fixture(scope="module")
def tenant(api: Api) -> str:
    reply = api.post("/api/v1/tenants", {"name": TENANT, "display_name": "Shipped images"}, tenant="")
    assert reply.status == 201, str(reply)
    api.tenant = TENANT
    return TENANT


def needs(stack: ShippedStack, *services: str) -> None:
    """Fail (never skip) a flow at once when a service it needs did not start, saying why."""
    down = {s: stack.not_ready[s] for s in services if s in stack.not_ready}
    assert not down, "needed services did not start:\n" + "\n\n".join(down.values())


def test_each_image_holds_its_own_service_and_the_shared_libraries(images: dict[str, Image]) -> None:
    for service, image in images.items():
        assert image.berth_packages() == {package(service), "berth_schema", "berth_common"}, service
        assert image.script(f"berth-{service}").is_file(), f"{service}: no console script berth-{service}"


def test_every_service_runs_from_its_own_image(stack: ShippedStack, api: Api) -> None:
    assert not stack.not_ready, "\n\n".join(stack.not_ready.values())
    for name, svc in stack.services.items():
        assert svc.proc.popen is not None
        cmdline = Path(f"/proc/{svc.proc.popen.pid}/cmdline").read_bytes().split(b"\0")
        assert any(str(stack.images[name].env).encode() in arg for arg in cmdline), (name, cmdline)
    reply = api.get("/api/v1/services")
    assert reply.status == 200, str(reply)
    assert {i["name"]: i["status"] for i in reply.body["items"]} == dict.fromkeys(SERVICES, "up"), str(reply)


def test_tenant(api: Api, tenant: str) -> None:
    assert api.get(f"/api/v1/tenants/{tenant}").status == 200
    api.bad_body("/api/v1/tenants", {"name": "Not_A_Label"}, "name")


# --- registries and replication (registry-sync) ---------------------------------------------------


async def _push(reg: Registry, repository: str, tag: str) -> None:
    async with aiohttp.ClientSession() as session:
        await push_image(session, reg.url, repository, tag, headers=reg.auth_headers)


def _tags(reg: Registry, repository: str) -> list[str]:
    req = urllib.request.Request(f"{reg.url}/v2/{repository}/tags/list", headers=reg.auth_headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            import json

            return list(json.load(r).get("tags") or [])
    except OSError:
        return []


def test_registry_pair_and_a_replication_policy_that_runs(
    stack: ShippedStack, api: Api, tenant: str, registry_factory: Callable[..., Registry]
) -> None:
    needs(stack, "registry-sync")
    source, destination = registry_factory(), registry_factory()
    for name, reg in (("src", source), ("dst", destination)):
        body = {"name": name, "url": reg.url, "username": reg.username, "password": reg.password, "insecure": True}
        api.accepted("POST", "/api/v1/registries", body)
        api.eventually(f"/api/v1/registries/{name}", lambda r: r.status == 200)
    api.bad_body("/api/v1/registries", {"name": "bad", "url": "ftp://nowhere"}, "url")

    asyncio.run(_push(source, "library/hello", "v1"))
    api.accepted("POST", "/api/v1/replication-policies", {"name": "mirror", "source": "src", "destination": "dst"})
    api.eventually("/api/v1/replication-policies/mirror", lambda r: r.status == 200)
    api.bad_body(
        "/api/v1/replication-policies", {"name": "sideways", "source": "src", "destination": "dst", "mode": "x"}, "mode"
    )

    run = api.accepted("POST", "/api/v1/replication-policies/mirror:run")
    api.operation(run, within=120)
    assert "v1" in _tags(destination, "library/hello"), "the pushed image did not reach the destination"


# --- alerts (monitor-alert) ------------------------------------------------------------------------


def post_hook(api: Api, path: str, body: Any) -> Reply:
    """What Alertmanager sends: the hook token as its bearer credentials (http_config.authorization)."""
    return api.post(path, body, Authorization=f"Bearer {HOOKS_TOKEN}")


def _alertmanager_payload(alertname: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    labels = {"alertname": alertname, "severity": "critical", "cluster": CLUSTER}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "berth",
        "groupLabels": {"alertname": alertname},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "shipped-image test alert"},
        "externalURL": "http://alertmanager.test",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "shipped-image test alert"},
                "startsAt": now,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.test/graph",
                "fingerprint": uuid.uuid4().hex[:16],
            }
        ],
    }


def test_an_alertmanager_webhook_reaches_monitor_alert(stack: ShippedStack, api: Api, tenant: str) -> None:
    needs(stack, "monitor-alert")
    hook = post_hook(api, f"/hooks/alertmanager?tenant={tenant}", _alertmanager_payload("ShippedImageHook"))
    assert 200 <= hook.status < 300, str(hook)
    api.eventually(
        "/api/v1/alerts",
        lambda r: r.status == 200 and any(a.get("alertname") == "ShippedImageHook" for a in items(r)),
    )
    bad_payload = {**_alertmanager_payload("ShippedImageHook"), "alerts": "not-a-list"}
    bad = post_hook(api, f"/hooks/alertmanager?tenant={tenant}", bad_payload)
    assert 400 <= bad.status < 500 and "alerts" in str(bad.body), str(bad)


def test_an_alert_channel_gets_an_alertmanager_webhook(stack: ShippedStack, api: Api, tenant: str) -> None:
    needs(stack, "monitor-alert")
    with receiver() as robot:
        channel = {"name": "oncall", "kind": "webhook", "url": f"{robot.url}/robot/send"}
        api.accepted("POST", "/api/v1/channels", channel)
        api.eventually("/api/v1/channels", lambda r: r.status == 200 and "oncall" in {c["name"] for c in items(r)})
        api.bad_body("/api/v1/channels", {"name": "pigeon", "kind": "carrier-pigeon", "url": robot.url}, "kind")
        api.accepted("POST", "/api/v1/alert-routes", {"name": "everything", "channels": ["oncall"]})
        api.eventually(
            "/api/v1/alert-routes", lambda r: r.status == 200 and "everything" in {x["name"] for x in items(r)}
        )
        hook = post_hook(api, f"/hooks/alertmanager?tenant={tenant}", _alertmanager_payload("ShippedImageDown"))
        assert 200 <= hook.status < 300, str(hook)
        api.eventually("/api/v1/channels", lambda r: bool(robot.posts), within=60)
        assert "ShippedImageDown" in str(robot.posts[0][2]), robot.posts[0]


def test_a_silence(stack: ShippedStack, api: Api, tenant: str) -> None:
    needs(stack, "monitor-alert")
    body = {"matchers": ["alertname=ShippedImageNoise"], "duration_minutes": 30, "comment": "shipped e2e"}
    api.operation(api.accepted("POST", "/api/v1/silences", body), within=60)
    api.eventually(
        "/api/v1/silences",
        lambda r: r.status == 200 and any("ShippedImageNoise" in str(s.get("matchers")) for s in items(r)),
    )
    api.bad_body("/api/v1/silences", {"matchers": ["no matcher here"]}, "matchers")


# --- DR (dr-switcher) ------------------------------------------------------------------------------


def test_a_dr_group(stack: ShippedStack, api: Api, tenant: str) -> None:
    needs(stack, "dr-switcher")
    with receiver() as site:

        def side(name: str, ip: str) -> dict[str, Any]:
            return {"name": name, "dns_targets": [ip], "probes": [{"kind": "http", "url": f"{site.url}/healthz"}]}

        group = {
            "name": "shop",
            "primary": side("idc-a", "127.0.0.11"),
            "standby": side("idc-b", "127.0.0.12"),
            "dns": {"zone": "shop.test.", "record": "www.shop.test.", "type": "A"},
            "auto_failover": False,
        }
        api.accepted("POST", "/api/v1/dr-groups", group)
        found = api.eventually("/api/v1/dr-groups/shop", lambda r: r.status == 200)
        assert found.body["name"] == "shop", str(found)
        api.bad_body("/api/v1/dr-groups", {"name": "half", "primary": side("idc-a", "127.0.0.11")}, "standby")


# --- releases (release-orchestrator) ---------------------------------------------------------------


def test_a_release_template(stack: ShippedStack, api: Api, tenant: str) -> None:
    needs(stack, "release-orchestrator")
    template = {"name": "web", "workload": {"replicas": 2, "ports": [{"container_port": 8080}]}}
    api.accepted("POST", "/api/v1/templates", template)
    found = api.eventually("/api/v1/templates/web", lambda r: r.status == 200)
    assert found.body["name"] == "web", str(found)
    api.bad_body("/api/v1/templates", {"name": "rocket", "kind": "spaceship"}, "kind")


# --- a local cluster, its node pool and the tenant's node count ------------------------------------


@pytest.fixture(scope="module")
def cluster(stack: ShippedStack, api: Api, tenant: str) -> str:
    needs(stack, "cluster-manager")
    created = api.accepted("POST", "/api/v1/clusters", {"name": CLUSTER, "provider": "local"})
    api.operation(created, within=360)
    return CLUSTER


def test_a_local_cluster_becomes_running(api: Api, cluster: str) -> None:
    reply = api.get(f"/api/v1/clusters/{cluster}")
    assert reply.status == 200, str(reply)
    assert str(reply.body.get("phase") or reply.body.get("status")).lower() == "running", str(reply)
    api.bad_body("/api/v1/clusters", {"name": "moon", "provider": "moon"}, "provider")


def test_a_cluster_created_without_a_provider_gets_one_that_works_here(
    stack: ShippedStack, api: Api, tenant: str
) -> None:
    """`berth cluster create x` sends no provider; only the local provider is configured here."""
    needs(stack, "cluster-manager")
    created = api.accepted("POST", "/api/v1/clusters", {"name": "dflt"})
    try:
        reply = api.eventually("/api/v1/clusters/dflt", lambda r: r.status == 200)
        assert reply.body.get("provider") == "local", str(reply)
    finally:
        if created:
            api.call("DELETE", "/api/v1/clusters/dflt")


def test_a_node_pool_and_its_nodes_counted(stack: ShippedStack, api: Api, tenant: str, cluster: str) -> None:
    needs(stack, "node-manager", "cluster-manager")
    pools = f"/api/v1/clusters/{cluster}/nodepools"
    api.operation(api.accepted("POST", pools, {"name": "workers", "flavour": "2c4g", "count": 2}), within=240)
    api.eventually(f"{pools}/workers", lambda r: r.status == 200)
    api.eventually(f"/api/v1/clusters/{cluster}/nodes?pool=workers", lambda r: r.status == 200 and len(items(r)) == 2)
    api.bad_body(pools, {"name": "huge", "flavour": "lots"}, "flavour")
    usage: Reply = api.eventually(
        f"/api/v1/tenants/{tenant}/limits",
        lambda r: r.status == 200 and r.body.get("usage", {}).get("nodes") == 2,
        within=60,
    )
    assert usage.body["usage"]["clusters"] >= 1, str(usage)


# --- every read route, against the real services as they ship --------------------------------------

# Path parameters filled with what the flows above created (or a name that does not exist: a 404
# from the owning service is an answer too). What must never come back is a 5xx: no service
# offering the op (503), an answer outside its schema (502), a crash (500) or silence (504).
_PARAMS = {"cluster": CLUSTER, "tenant": TENANT, "pool": "workers", "namespace": "default"}


def test_every_read_route_is_answered_by_its_real_service(stack: ShippedStack, api: Api, cluster: str) -> None:
    from berth_gateway.routes import ROUTES

    assert not stack.not_ready, "\n\n".join(stack.not_ready.values())
    failures: list[str] = []
    checked = 0
    for route in ROUTES:
        if route.method != "GET":
            continue
        path = route.path
        for param in route.params:
            path = path.replace("{" + param + "}", _PARAMS.get(param, "nope"))
        reply = api.get(path)
        checked += 1
        if reply.status >= 500 or (route.kind == "list" and "nope" not in path and reply.status != 200):
            failures.append(f"{route.method} {path} ({route.service}.{route.op}): {reply}")
    assert checked > 40, checked
    assert not failures, "\n".join(failures)
