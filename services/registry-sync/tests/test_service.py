"""The service end to end: real NATS, two real registries, commands in, facts and queries out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from berth_common.bus import QueryError
from berth_common.events import Envelope
from berth_registry_sync.app import app
from berth_registry_sync.bootstrap import bootstrap
from berth_registry_sync.deps import now
from berth_registry_sync.domain.executions import Execution, Task
from berth_registry_sync.oci import RegistryClient
from berth_registry_sync.scheduler import due
from berth_registry_sync.settings import RegistrySyncSettings
from berth_registry_sync.state import COLLECTIONS, EXECUTIONS, SEALER, SECRETS
from berth_registry_sync.webhook import webhook_routes
from berth_schema.registry import DrSwitch, PutDrPair, PutPolicy, PutRegistry, RetryExecution, RunPolicy
from berth_schema.registry.dr import DrPairSpec
from berth_schema.registry.filters import Filter
from berth_schema.registry.policies import PolicySpec, Triggers
from berth_schema.registry.registries import RegistrySpec
from berth_testkit.nats import NatsServer
from berth_testkit.registry import Registry

from .conftest import Images, endpoint


@pytest.fixture(scope="module")
async def service(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[None]:
    settings = RegistrySyncSettings(
        nats_url=nats_server.url, data_dir=tmp_path_factory.mktemp("rs"), http_port=0, log_json=False
    )
    assert bootstrap(settings) is app
    await app.start(settings)  # the embedded default store: SQLite in the data dir
    yield
    await app.stop()


async def send(cmd: Any, tenant: str) -> Envelope:
    return await app.bus.emit(cmd, tenant=tenant)


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met in {within}s (last: {last!r})")


async def setup_pair(tenant: str, a: Registry, b: Registry, *, password_b: str | None = None, **policy: Any) -> None:
    await send(
        PutRegistry(
            registry=RegistrySpec(tenant=tenant, name="src", url=a.url, username=a.username, password=a.password)
        ),
        tenant,
    )
    await send(
        PutRegistry(
            registry=RegistrySpec(
                tenant=tenant, name="dst", url=b.url, username=b.username, password=password_b or b.password
            )
        ),
        tenant,
    )
    await eventually(lambda: registries_defined(tenant, 2))
    await send(
        PutPolicy(policy=PolicySpec(tenant=tenant, name="p1", source="src", destination="dst", **policy)), tenant
    )
    await eventually(lambda: policy_defined(tenant, "p1"))


async def policy_defined(tenant: str, name: str) -> bool:
    got = await app.bus.request("registry-sync", "list-policies", {"tenant": tenant})
    return any(p["name"] == name for p in got["items"])


async def registries_defined(tenant: str, n: int) -> bool:
    got = await app.bus.request("registry-sync", "list-registries", {"tenant": tenant})
    return len(got["items"]) == n


async def finished(tenant: str, ex_id: str) -> dict[str, Any] | None:
    try:
        ex = await app.bus.request("registry-sync", "get-execution", {"tenant": tenant, "id": ex_id})
    except Exception:
        return None
    return ex if ex["status"] != "running" else None


async def facts(
    subject: str, *, until: Callable[[Envelope], bool], within: float = 15.0, settle: bool = False
) -> list[Envelope]:
    got: list[Envelope] = []

    async def follow() -> None:
        async for _seq, env in app.bus.events(subjects=[subject], start_seq=1):
            got.append(env)
            if until(env):
                return

    try:
        await asyncio.wait_for(follow(), within)
    except TimeoutError:
        if not settle:
            raise
    return got


async def test_run_policy_copies_what_filters_select_and_reports_tasks(
    service: None, registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    tenant = "t-run"
    for tag in ("1.0.0", "1.1.0", "2.0.0", "dev"):
        await images_a.image("apps/web", tag)
    await images_a.image("tmp/scratch", "1.0.0")
    filters = [
        Filter(on="repository", pattern="apps/*"),
        Filter(on="tag", kind="semver", pattern="^1"),
        Filter(on="tag", pattern="1.1.*", decision="exclude"),
    ]
    await setup_pair(tenant, registry_a, registry_b, filters=filters, concurrency=2, bandwidth_kbps=100_000)
    listed = await app.bus.request("registry-sync", "list-registries", {"tenant": tenant})
    assert registry_a.password not in str(listed) and registry_b.password not in str(listed)
    assert {r["password"] for r in listed["items"]} == {"********"}
    with pytest.raises(QueryError) as bad:
        await app.bus.request("registry-sync", "list-registries", {"limit": 1000})
    assert bad.value.code == 400 and "tenant" in bad.value.detail

    await send(RunPolicy(tenant=tenant, policy="p1", execution_id="ex-run-1"), tenant)
    ex = await eventually(lambda: finished(tenant, "ex-run-1"))
    assert ex["status"] == "succeeded", ex
    assert [(t["repository"], t["tag"], t["status"]) for t in ex["tasks"]] == [("apps/web", "1.0.0", "copied")]
    assert ex["tasks"][0]["bytes"] > 0 and ex["tasks"][0]["digest"].startswith("sha256:")
    async with RegistryClient(endpoint(registry_b)) as b:
        assert await b.catalog() == ["apps/web"]
        assert await b.list_tags("apps/web") == ["1.0.0"]

    types = [
        e.type
        for e in await facts(
            "berth.evt.registry.>",
            until=lambda e: e.type.endswith("execution-succeeded.v1") and (e.data or {}).get("execution") == "ex-run-1",
        )
        if (e.data or {}).get("execution") == "ex-run-1"
    ]
    assert types[0] == "berth.registry.execution-started.v1" and types[-1] == "berth.registry.execution-succeeded.v1"
    assert "berth.registry.artifact-copied.v1" in types
    # the passwords are in no fact and no stored document; the secrets collection holds them sealed
    everything = await facts("berth.evt.registry.>", until=lambda e: False, within=2.0, settle=True)
    stored = [r.data for col in COLLECTIONS for r in await app.store.collection(col).list(limit=1000)]
    sealed = [r.data["password"] for r in await app.store.collection(SECRETS).list(limit=1000)]
    opened = {SEALER.get().unseal(x) for x in sealed}
    for pw in (registry_a.password, registry_b.password):
        assert pw in opened and pw not in json.dumps(sealed)  # sealed at rest
        assert pw not in json.dumps([e.data for e in everything]) and pw not in json.dumps(stored, default=str)

    # a second run finds everything in place
    await send(RunPolicy(tenant=tenant, policy="p1", execution_id="ex-run-2"), tenant)
    again = await eventually(lambda: finished(tenant, "ex-run-2"))
    assert [t["status"] for t in again["tasks"]] == ["skipped"]
    listed_ex = await app.bus.request("registry-sync", "list-executions", {"tenant": tenant})
    assert {e["id"] for e in listed_ex["items"]} == {"ex-run-1", "ex-run-2"}


async def test_wrong_password_fails_the_execution_clearly_and_copies_nothing(
    service: None, registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    tenant = "t-auth"
    await images_a.image("apps/web", "1.0")
    await setup_pair(tenant, registry_a, registry_b, password_b="wrong-password")
    await send(RunPolicy(tenant=tenant, policy="p1", execution_id="ex-auth-1"), tenant)
    ex = await eventually(lambda: finished(tenant, "ex-auth-1"))
    assert ex["status"] == "failed"
    assert ex["error"] == f"authentication failed for {registry_b.host} as {registry_b.username}"
    assert ex["tasks"] == []
    async with RegistryClient(endpoint(registry_b)) as b:
        assert await b.catalog() == []


async def test_retry_execution_runs_only_the_failures(
    service: None, registry_a: Registry, registry_factory: Callable[..., Registry], images_a: Images
) -> None:
    tenant = "t-retry"
    await images_a.image("apps/web", "1.0")
    await images_a.image("apps/api", "1.0")
    registry_b = registry_factory()
    await setup_pair(tenant, registry_a, registry_b)
    await send(RunPolicy(tenant=tenant, policy="p1", execution_id="ex-retry-1"), tenant)
    first = await eventually(lambda: finished(tenant, "ex-retry-1"))
    assert first["status"] == "succeeded"
    # a run asked for a tag the source does not have (yet): that task fails, the other is skipped
    await send(
        RunPolicy(
            tenant=tenant, policy="p1", execution_id="ex-retry-2", only=[("apps/web", "1.0"), ("apps/gone", "9.9")]
        ),
        tenant,
    )
    second = await eventually(lambda: finished(tenant, "ex-retry-2"))
    assert second["status"] == "failed"
    assert {(t["repository"], t["status"]) for t in second["tasks"]} == {
        ("apps/web", "skipped"),
        ("apps/gone", "failed"),
    }
    assert "not found" in next(t["error"] for t in second["tasks"] if t["status"] == "failed")
    await images_a.image("apps/gone", "9.9")
    await send(RetryExecution(tenant=tenant, execution="ex-retry-2", execution_id="ex-retry-3"), tenant)
    third = await eventually(lambda: finished(tenant, "ex-retry-3"))
    assert (third["status"], third["retry_of"]) == ("succeeded", "ex-retry-2")
    assert [(t["repository"], t["status"]) for t in third["tasks"]] == [("apps/gone", "copied")]


async def test_registry_webhook_copies_a_newly_pushed_tag(
    service: None, registry_factory: Callable[..., Registry], registry_b: Registry, tmp_path: Path
) -> None:
    tenant = "t-hook"
    web_app = web.Application()
    web_app.add_routes(webhook_routes(app.bus))
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        hook = f"http://127.0.0.1:{port}/hooks/registry?tenant={tenant}&registry=src"
        registry_a = registry_factory(notify=[hook])
        await setup_pair(tenant, registry_a, registry_b, triggers=Triggers(on_push=True))
        # bad input gets a problem document naming the field
        bad = b'{"events": [{"action": "push", "target": {}}]}'
        v2 = {"Content-Type": "application/vnd.docker.distribution.events.v2+json"}
        async with ClientSession() as http, http.post(hook, data=bad, headers=v2) as r:
            assert r.status == 400 and r.content_type == "application/problem+json"
            assert "events[0].target.repository" in (await r.json())["detail"]
        async with RegistryClient(endpoint(registry_a)) as a:
            pushed = await Images(a).image("apps/hooked", "7.0")
        async with RegistryClient(endpoint(registry_b)) as b:
            got = await eventually(lambda: b.head_manifest("apps/hooked", "7.0"), within=30)
            assert got.digest == pushed.digest
        pushes = await facts("berth.evt.registry.image-pushed", until=lambda e: (e.data or {}).get("tenant") == tenant)
        assert any((e.data or {}).get("repository") == "apps/hooked" for e in pushes)
    finally:
        await runner.cleanup()


async def test_dr_pair_lag_and_switch(
    service: None, registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    tenant = "t-dr"
    await images_a.image("apps/web", "1.0")
    await send(
        PutRegistry(
            registry=RegistrySpec(
                tenant=tenant,
                name="main",
                url=registry_a.url,
                username=registry_a.username,
                password=registry_a.password,
            )
        ),
        tenant,
    )
    await send(
        PutRegistry(
            registry=RegistrySpec(
                tenant=tenant,
                name="backup",
                url=registry_b.url,
                username=registry_b.username,
                password=registry_b.password,
            )
        ),
        tenant,
    )
    await eventually(lambda: registries_defined(tenant, 2))
    await send(PutDrPair(pair=DrPairSpec(tenant=tenant, name="reg", primary="main", standby="backup")), tenant)

    async def status() -> dict[str, Any] | None:
        try:
            return await app.bus.request("registry-sync", "dr-status", {"tenant": tenant, "pair": "reg"})
        except Exception:
            return None

    st = await eventually(status)
    assert (st["active"], st["pull_endpoint"]) == ("primary", registry_a.url)
    await send(RunPolicy(tenant=tenant, policy="dr-reg", trigger="dr", execution_id="ex-dr-1"), tenant)
    await eventually(lambda: finished(tenant, "ex-dr-1"))

    async def lag_recorded() -> dict[str, Any] | None:
        # the pair's lag is written after the execution's own record: wait for it, not for the first answer
        st = await status()
        return st if st is not None and st["lag_seconds"] else None

    st = await eventually(lag_recorded)
    assert st["lag_seconds"] == {"apps/web": 0.0}
    await send(DrSwitch(tenant=tenant, pair="reg", to="standby", reason="primary site down"), tenant)
    switched = await facts("berth.evt.registry.dr-switched", until=lambda e: (e.data or {}).get("pair") == "reg")
    fact = next(e.data for e in switched if (e.data or {}).get("pair") == "reg")
    assert fact is not None
    assert (fact["active"], fact["pull_endpoint"], fact["reason"]) == ("standby", registry_b.url, "primary site down")
    st = await status()
    assert st is not None and (st["active"], st["pull_endpoint"]) == ("standby", registry_b.url)


async def test_a_redelivered_run_resumes_the_pending_tasks_only(
    service: None, registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    tenant = "t-resume"
    await images_a.image("apps/web", "1.0")
    await images_a.image("apps/web", "2.0")
    await setup_pair(tenant, registry_a, registry_b)
    # what a replica that died mid-run leaves behind: one task done, one pending
    crashed = Execution(
        id="ex-resume-1",
        tenant=tenant,
        policy="p1",
        trigger="manual",
        started_at=now(),
        tasks=[
            Task(repository="apps/web", destination="apps/web", tag="1.0", status="copied", bytes=123),
            Task(repository="apps/web", destination="apps/web", tag="2.0"),
        ],
    )
    await app.store.collection(EXECUTIONS).create("ex-resume-1", crashed.model_dump(mode="json"))
    await send(RunPolicy(tenant=tenant, policy="p1", execution_id="ex-resume-1"), tenant)
    ex = await eventually(lambda: finished(tenant, "ex-resume-1"))
    assert [(t["tag"], t["status"], t["bytes"] > 0) for t in ex["tasks"]] == [
        ("1.0", "copied", True),
        ("2.0", "copied", True),
    ]
    async with RegistryClient(endpoint(registry_b)) as b:
        assert await b.list_tags("apps/web") == ["2.0"]  # 1.0 was recorded as done and not run again


def test_scheduler_claims_cron_and_reconcile_when_due() -> None:
    spec = PolicySpec(
        tenant="t", name="p", source="a", destination="b", triggers=Triggers(cron="*/5 * * * *", reconcile_seconds=600)
    )
    t0 = datetime(2026, 1, 1, 12, 1, tzinfo=UTC)
    assert due(spec, {}, t0) == ("init", {"cron_at": t0.isoformat()})
    marks = {"cron_at": t0.isoformat(), "reconcile_at": t0.isoformat()}
    assert due(spec, marks, t0 + timedelta(minutes=3)) is None
    assert due(spec, marks, t0 + timedelta(minutes=4)) == ("cron", {"cron_at": "2026-01-01T12:05:00+00:00"})
    marks["cron_at"] = (t0 + timedelta(minutes=9)).isoformat()
    assert due(spec, marks, t0 + timedelta(minutes=10))[0] == "reconcile"  # type: ignore[index]
    assert due(spec.model_copy(update={"enabled": False}), marks, t0 + timedelta(hours=1)) is None


async def test_delete_replication_only_when_opted_in_and_dry_run_first(
    service: None, registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    tenant = "t-delete"
    await images_a.image("apps/web", "1.0")
    async with RegistryClient(endpoint(registry_b)) as b:
        extra = Images(b)
        await extra.image("apps/web", "old")
        shared = await extra.image("apps/web", "keep-me")
        await b.put_manifest("apps/web", "alias-of-keep", shared)  # same manifest as a tag that stays
    filters = [Filter(on="tag", pattern="keep-me", decision="exclude")]
    await setup_pair(tenant, registry_a, registry_b, delete=True, filters=filters, dry_run=True)
    await send(RunPolicy(tenant=tenant, policy="p1", execution_id="ex-del-1"), tenant)
    dry = await eventually(lambda: finished(tenant, "ex-del-1"))
    got = {(t["tag"], t["action"], t["status"]) for t in dry["tasks"]}
    assert got == {
        ("1.0", "copy", "would-copy"),
        ("old", "delete", "would-delete"),
        ("alias-of-keep", "delete", "skipped"),
    }
    await send(RunPolicy(tenant=tenant, policy="p1", execution_id="ex-del-2", dry_run=False), tenant)
    real = await eventually(lambda: finished(tenant, "ex-del-2"))
    assert {(t["tag"], t["status"]) for t in real["tasks"]} == {
        ("1.0", "copied"),
        ("old", "deleted"),
        ("alias-of-keep", "skipped"),
    }
    async with RegistryClient(endpoint(registry_b)) as b:
        assert sorted(await b.list_tags("apps/web")) == ["1.0", "alias-of-keep", "keep-me"]
