"""With the real Prometheus and Alertmanager (Debian packages via libs/testkit)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from berth_monitor_alert.adapters.alertmanager_api import Alertmanagers
from berth_monitor_alert.adapters.prometheus_api import Prometheus
from berth_monitor_alert.app import app
from berth_monitor_alert.config import deps
from berth_monitor_alert.domain.rulepacks import PACK, render_rules
from berth_monitor_alert.scaler import evaluate_metrics
from berth_schema.alert import PutScalingPolicy, SilenceAlerts
from berth_testkit.procs import which_or_fail
from ma_fakes.chat import ChatFakes
from ma_fakes.harness import Service, alert_payload, eventually
from test_service_delivery import DINGTALK_SECRET, configure, dingtalk

E2E_RULE = {
    "name": "berth-e2e",
    "rules": [
        {
            "alert": "BerthE2E",
            "expr": "vector(1) > 0",
            # Fire after Prometheus has discovered its Alertmanagers (its discovery manager
            # publishes targets every 5 s): an alert that fires earlier is dropped and re-sent
            # only after --rules.alert.resend-delay (1m).
            "for": "8s",
            "labels": {"severity": "critical", "cluster": "c1", "team": "platform"},
            "annotations": {"summary": "the end-to-end rule fires"},
        }
    ],
}


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


def verify(query: dict[str, str]) -> None:
    ts = query["timestamp"]
    mac = hmac.new(DINGTALK_SECRET.encode(), f"{ts}\n{DINGTALK_SECRET}".encode(), hashlib.sha256)
    assert query["sign"] == base64.b64encode(mac.digest()).decode()


def test_rule_pack_passes_promtool(tmp_path: Path) -> None:
    promtool = which_or_fail("promtool", "/usr/bin/promtool", how="apt-get install prometheus (ships promtool)")
    path = tmp_path / "rules.yml"
    path.write_text(render_rules("prod-1"))
    out = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(PACK)} rules found" in out.stdout


async def test_rule_pack_loads_into_prometheus(prometheus_factory: Callable[..., Any]) -> None:
    groups = yaml.safe_load(render_rules("prod-1"))["groups"]
    prom = prometheus_factory(rule_groups=groups)
    doc = await get_json(f"{prom.url}/api/v1/rules")
    loaded = {r["name"] for g in doc["data"]["groups"] for r in g["rules"]}
    assert loaded == {spec.alert for spec in PACK}


async def test_rule_fires_through_alertmanager_to_one_signed_dingtalk_message(
    service: Service,
    chat: ChatFakes,
    prometheus_factory: Callable[..., Any],
    alertmanager_factory: Callable[..., Any],
) -> None:
    tenant = "t-e2e"
    await configure(
        service, tenant, [dingtalk(chat)], [{"name": "platform", "matchers": ["team=platform"], "channels": ["ding"]}]
    )
    am = alertmanager_factory(webhook_urls=[f"{service.webhook_url}?tenant={tenant}"])
    prometheus_factory(rule_groups=[E2E_RULE], alertmanagers=[am.url])
    await eventually(lambda: chat.of("dingtalk"), within=60, what="the DingTalk message")
    await asyncio.sleep(3)  # Alertmanager re-sends on group_interval; those copies must collapse
    msgs = chat.of("dingtalk")
    assert len(msgs) == 1 and chat.rejected == []
    verify(msgs[0].query)
    assert "BerthE2E" in msgs[0].body["markdown"]["text"]


async def test_ha_pair_of_alertmanagers_yields_one_message(
    service: Service,
    chat: ChatFakes,
    prometheus_factory: Callable[..., Any],
    alertmanager_factory: Callable[..., Any],
) -> None:
    tenant = "t-e2e-ha"
    await configure(
        service, tenant, [dingtalk(chat)], [{"name": "platform", "matchers": ["team=platform"], "channels": ["ding"]}]
    )
    hook = f"{service.webhook_url}?tenant={tenant}"
    am1 = alertmanager_factory(webhook_urls=[hook])
    am2 = alertmanager_factory(webhook_urls=[hook])
    prometheus_factory(rule_groups=[E2E_RULE], alertmanagers=[am1.url, am2.url])

    async def both_sent() -> bool:
        # Both Alertmanagers hold the alert (each notifies Berth on its own).
        a1 = await get_json(f"{am1.url}/api/v2/alerts")
        a2 = await get_json(f"{am2.url}/api/v2/alerts")
        return bool(a1) and bool(a2)

    await eventually(both_sent, within=60, what="the alert in both Alertmanagers")
    await eventually(lambda: chat.of("dingtalk"), within=30, what="the DingTalk message")
    await asyncio.sleep(3)
    assert len(chat.of("dingtalk")) == 1 and chat.rejected == []
    verify(chat.of("dingtalk")[0].query)


async def test_silence_is_pushed_to_alertmanager(service: Service, alertmanager_factory: Callable[..., Any]) -> None:
    am = alertmanager_factory()
    deps.alertmanagers = Alertmanagers([am.url])
    try:
        tenant = "t-am-silence"
        await service.send(
            SilenceAlerts(
                tenant=tenant,
                id="maint-1",
                matchers=["cluster=c9", 'alertname=~"Kube.*"'],
                created_by="ops",
                duration_minutes=60,
            ),
            tenant=tenant,
        )

        async def pushed() -> list[Any]:
            return [s for s in await get_json(f"{am.url}/api/v2/silences") if s["createdBy"] == "ops"]

        await eventually(pushed, within=15, what="the silence in Alertmanager")
        silence = (await pushed())[0]
        assert silence["status"]["state"] == "active"
        assert {"name": "alertname", "value": "Kube.*", "isRegex": True, "isEqual": True} in silence["matchers"]

        await service.send(SilenceAlerts(tenant=tenant, id="maint-1", created_by="ops", expire=True), tenant=tenant)

        async def expired() -> bool:
            return all(s["status"]["state"] == "expired" for s in await pushed())

        await eventually(expired, within=15, what="the silence expired in Alertmanager")
    finally:
        deps.alertmanagers = Alertmanagers()


async def test_metric_policy_scales_once_per_cooldown(service: Service, prometheus_factory: Callable[..., Any]) -> None:
    prom = prometheus_factory()
    tenant = "t-scale"
    policy = {
        "name": "web-cpu",
        "target": {"kind": "workload", "cluster": "c1", "namespace": "shop", "name": "web"},
        "trigger": {"type": "metric", "query": "vector(0.93)", "scale_up_above": 0.8, "interval_seconds": 1},
        "min": 2,
        "max": 4,
        "step": 1,
        "cooldown_seconds": 300,
    }
    await service.send(PutScalingPolicy(tenant=tenant, policy=policy), tenant=tenant)

    async def stored() -> bool:
        return bool((await service.query("list-scaling-policies", {"tenant": tenant}))["items"])

    await eventually(stored, what="the policy")

    def scale_commands() -> list[Any]:
        return [c for c in service.commands if c.tenant == tenant]

    for _ in range(3):  # three evaluations inside one cool-down: one decision
        service.clock.advance(2)
        await evaluate_metrics(app.store, Prometheus(prom.url), now=service.clock.now())
    app.wake_relay()
    await eventually(lambda: len(scale_commands()) == 1, what="one scale command")
    await asyncio.sleep(0.5)
    assert len(scale_commands()) == 1
    cmd = scale_commands()[0]
    assert cmd.type == "berth.cmd.release-orchestrator.scale-workload.v1"
    assert cmd.data["replicas"] == 3 and cmd.data["name"] == "web"
    decided = service.facts_of("berth.alert.scale-decided.v1", tenant)
    assert len(decided) == 1 and "vector(0.93) = 0.93 > 0.8" in decided[0].data["reason"]

    service.clock.advance(301)  # the cool-down is over: one more step, then the max bounds it
    for _ in range(3):
        service.clock.advance(2)
        await evaluate_metrics(app.store, Prometheus(prom.url), now=service.clock.now())
    app.wake_relay()
    await eventually(lambda: len(scale_commands()) == 2, what="the second scale command")
    assert scale_commands()[1].data["replicas"] == 4
    service.clock.advance(301)
    await evaluate_metrics(app.store, Prometheus(prom.url), now=service.clock.now())
    app.wake_relay()
    await asyncio.sleep(0.5)
    assert len(scale_commands()) == 2  # at max: no more decisions


async def test_alert_policy_scales_a_node_pool(service: Service) -> None:
    tenant = "t-scale-alert"
    policy = {
        "name": "pool-pressure",
        "target": {"kind": "node-pool", "cluster": "c1", "pool": "workers"},
        "trigger": {"type": "alert", "matchers": ["alertname=NodePressure"]},
        "min": 3,
        "max": 10,
        "step": 2,
        "cooldown_seconds": 600,
    }
    await service.send(PutScalingPolicy(tenant=tenant, policy=policy), tenant=tenant)

    async def stored() -> bool:
        return bool((await service.query("list-scaling-policies", {"tenant": tenant}))["items"])

    await eventually(stored, what="the policy")
    async with aiohttp.ClientSession() as http:
        for fp in ("p1", "p2"):  # two alerts inside the cool-down: one decision
            body = alert_payload(name="NodePressure", fingerprint=fp)
            async with http.post(f"{service.webhook_url}?tenant={tenant}", json=body) as resp:
                assert resp.status == 202
    await eventually(lambda: [c for c in service.commands if c.tenant == tenant], what="scale-pool command")
    await asyncio.sleep(0.5)
    cmds = [c for c in service.commands if c.tenant == tenant]
    assert len(cmds) == 1 and cmds[0].type == "berth.cmd.node-manager.scale-pool.v1" and cmds[0].data["size"] == 5
    assert "alert NodePressure firing" in service.facts_of("berth.alert.scale-decided.v1", tenant)[0].data["reason"]
