"""The service on real NATS: webhook in, signed chat messages out (fake SaaS receivers)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

import aiohttp
from berth_monitor_alert import state
from berth_monitor_alert.app import app
from berth_schema.alert import AckAlert, PutChannel, PutRoute, SilenceAlerts
from ma_fakes.chat import ChatFakes
from ma_fakes.harness import Service, alert_payload, eventually
from ma_fakes.smtp import SmtpFake

DINGTALK_SECRET = "SECdingtalk-secret"


async def configure(svc: Service, tenant: str, channels: list[dict[str, Any]], routes: list[dict[str, Any]]) -> None:
    for ch in channels:
        await svc.send(PutChannel(tenant=tenant, channel=ch), tenant=tenant)
    for r in routes:
        await svc.send(PutRoute(tenant=tenant, route=r), tenant=tenant)

    async def stored() -> bool:
        chans = await svc.query("list-channels", {"tenant": tenant})
        rts = await svc.query("list-routes", {"tenant": tenant})
        return len(chans["items"]) == len(channels) and len(rts["items"]) == len(routes)

    await eventually(stored, what="channels and routes stored")


def dingtalk(chat: ChatFakes, **over: Any) -> dict[str, Any]:
    return {
        "name": "ding",
        "kind": "dingtalk",
        "url": f"{chat.url}/robot/send?access_token=tok-1",
        "secret": DINGTALK_SECRET,
        "mentions": {"mobiles": ["13800000000"]},
        "timezone": "Asia/Shanghai",
        **over,
    }


async def post(svc: Service, body: Any, *, tenant: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{svc.webhook_url}?tenant={tenant}", json=body) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


def verify_dingtalk(query: dict[str, str]) -> None:
    ts = query["timestamp"]
    expected = base64.b64encode(
        hmac.new(DINGTALK_SECRET.encode(), f"{ts}\n{DINGTALK_SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == expected


async def test_ha_pair_copies_yield_one_signed_dingtalk_message(service: Service, chat: ChatFakes) -> None:
    tenant = "t-ha"
    await configure(service, tenant, [dingtalk(chat)], [{"name": "all", "channels": ["ding"]}])
    body = alert_payload(name="NodeDown", fingerprint="aa01")
    for _ in range(2):  # the second Alertmanager of the pair sends the same group and alert
        status, answer = await post(service, body, tenant=tenant)
        assert status == 202 and answer["accepted"] == 1
    await eventually(lambda: len(chat.of("dingtalk")) >= 1, what="a DingTalk message")
    await eventually(lambda: service.facts_of("berth.alert.notified.v1", tenant), what="notified fact")
    await asyncio.sleep(0.5)  # room for a duplicate to show up, which must not
    msgs = chat.of("dingtalk")
    assert len(msgs) == 1, [m.body for m in msgs]
    assert chat.rejected == []
    verify_dingtalk(msgs[0].query)
    # the signing secret is kept sealed at rest, yet opened to sign
    stored = await app.store.collection(state.CHANNELS).get(state.key(tenant, "ding"))
    assert stored is not None and stored.data["secret"].startswith("fernet:")
    assert DINGTALK_SECRET not in str(stored.data)
    # and never shown: not the signing secret, not the robot token in the URL
    listed = await service.query("list-channels", {"tenant": tenant})
    assert "tok-1" not in str(listed) and DINGTALK_SECRET not in str(listed)
    assert listed["items"][0]["has_secret"] is True and listed["items"][0]["url"].endswith("access_token=***")
    assert msgs[0].body["at"]["atMobiles"] == ["13800000000"]
    assert "NodeDown" in msgs[0].body["markdown"]["text"] and "CST" in msgs[0].body["markdown"]["text"]
    assert len(service.facts_of("berth.alert.firing.v1", tenant)) == 1
    alerts = await service.query("list-alerts", {"tenant": tenant})
    assert alerts["items"][0]["notified"].keys() == {"ding"}

    resolved = alert_payload(name="NodeDown", fingerprint="aa01", status="resolved")
    await post(service, resolved, tenant=tenant)
    await eventually(lambda: len(chat.of("dingtalk")) == 2, what="the resolved message")
    assert "RESOLVED" in chat.of("dingtalk")[1].body["markdown"]["text"]
    await eventually(lambda: service.facts_of("berth.alert.resolved.v1", tenant), what="resolved fact")


async def test_oversize_alert_is_split_under_the_limit(service: Service, chat: ChatFakes) -> None:
    tenant = "t-big"
    await configure(service, tenant, [dingtalk(chat)], [{"name": "all", "channels": ["ding"]}])
    description = "\n".join(f"pod shop/web-{i} 容器反复重启 restarting " + "x" * 80 for i in range(600))
    body = alert_payload(name="Huge", fingerprint="bb01", annotations={"summary": description})
    assert len(json.dumps(body).encode()) > 60_000
    await post(service, body, tenant=tenant)
    await eventually(lambda: service.facts_of("berth.alert.notified.v1", tenant), what="notified fact")
    msgs = chat.of("dingtalk")
    assert len(msgs) >= 3 and chat.rejected == []
    assert all(len(m.raw) <= 20_000 for m in msgs)
    texts = [m.body["markdown"]["text"] for m in msgs]
    assert texts[0].startswith(f"(1/{len(msgs)})") and texts[-1].startswith(f"({len(msgs)}/{len(msgs)})")
    for i in (0, 299, 599):
        assert sum(f"web-{i} " in t for t in texts) == 1  # every line arrives exactly once


async def test_silence_stops_delivery(service: Service, chat: ChatFakes) -> None:
    tenant = "t-silence"
    await configure(service, tenant, [dingtalk(chat)], [{"name": "all", "channels": ["ding"]}])
    await service.send(
        SilenceAlerts(
            tenant=tenant, matchers=['cluster="c1"', "alertname=~Noisy.*"], created_by="ops", duration_minutes=30
        ),
        tenant=tenant,
    )

    async def active() -> bool:
        return bool((await service.query("list-silences", {"tenant": tenant}))["items"])

    await eventually(active, what="the silence")
    await post(service, alert_payload(name="NoisyThing", fingerprint="cc01"), tenant=tenant)
    await post(service, alert_payload(name="RealProblem", fingerprint="cc02"), tenant=tenant)
    await eventually(lambda: len(chat.of("dingtalk")) == 1, what="the unsilenced alert")
    await eventually(
        lambda: [f for f in service.facts_of("berth.alert.silenced.v1", tenant) if f.data["action"] == "suppressed"],
        what="suppressed fact",
    )
    assert "RealProblem" in chat.of("dingtalk")[0].body["markdown"]["text"]
    assert all("NoisyThing" not in m.body["markdown"]["text"] for m in chat.of("dingtalk"))


async def test_failing_receiver_is_retried_then_dead_lettered(service: Service, chat: ChatFakes) -> None:
    tenant = "t-fail"
    ch = {"name": "broken", "kind": "slack", "url": f"{chat.url}/fail/broken", "max_attempts": 3}
    await configure(service, tenant, [ch], [{"name": "all", "channels": ["broken"]}])
    await post(service, alert_payload(name="Down", fingerprint="dd01"), tenant=tenant)

    async def dead() -> bool:
        return bool((await service.query("list-dead-letters", {"tenant": tenant}))["items"])

    await eventually(dead, what="a dead letter")
    letter = (await service.query("list-dead-letters", {"tenant": tenant}))["items"][0]
    assert chat.failures["broken"] == 3 and letter["attempts"] == 3 and "HTTP 500" in letter["error"]
    await eventually(lambda: service.facts_of("berth.alert.notify-failed.v1", tenant), what="notify-failed fact")


async def test_dingtalk_rate_limit_is_kept(service: Service, chat: ChatFakes) -> None:
    tenant = "t-rate"
    chat.clock = lambda: service.clock.now().timestamp()  # the robot's own 20/min window moves with ours
    await configure(service, tenant, [dingtalk(chat)], [{"name": "all", "channels": ["ding"]}])
    for i in range(25):
        await post(service, alert_payload(name=f"Burst{i}", fingerprint=f"ee{i:02d}"), tenant=tenant)
    await eventually(lambda: len(chat.of("dingtalk")) == 20, what="20 messages")
    await asyncio.sleep(1.0)
    assert len(chat.of("dingtalk")) == 20 and chat.rejected == []  # the rest wait for tokens
    service.clock.advance(15)  # a token bucket would refill here; DingTalk would mute the robot
    await asyncio.sleep(1.0)
    assert len(chat.of("dingtalk")) == 20 and chat.rejected == []
    service.clock.advance(46)  # the minute of the first 20 has passed
    await eventually(lambda: len(chat.of("dingtalk")) == 25, what="the held-back messages")
    assert chat.rejected == []


async def test_every_channel_kind(service: Service, chat: ChatFakes, smtp: SmtpFake) -> None:
    tenant = "t-kinds"
    channels: list[dict[str, Any]] = [
        {"name": "wecom", "kind": "wecom", "url": f"{chat.url}/cgi-bin/webhook/send?key=key-1"},
        {
            "name": "feishu",
            "kind": "feishu",
            "url": f"{chat.url}/open-apis/bot/v2/hook/hook-1",
            "secret": "feishu-secret",
        },
        {"name": "slack", "kind": "slack", "url": f"{chat.url}/services/T1"},
        {"name": "hook", "kind": "webhook", "url": f"{chat.url}/webhook", "secret": "hook-secret"},
        {
            "name": "mail",
            "kind": "email",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "email_from": "berth@example.com",
            "email_to": ["oncall@example.com"],
        },
    ]
    routes = [{"name": "all", "matchers": ['severity=~"critical|warning"'], "channels": [c["name"] for c in channels]}]
    await configure(service, tenant, channels, routes)
    await post(service, alert_payload(name="Everywhere", fingerprint="ff01"), tenant=tenant)
    await eventually(lambda: len(service.facts_of("berth.alert.notified.v1", tenant)) == 5, what="5 notified facts")
    assert chat.rejected == []
    for platform in ("wecom", "feishu", "slack", "webhook"):
        assert len(chat.of(platform)) == 1, platform
    assert "Everywhere" in chat.of("wecom")[0].body["markdown"]["content"]
    assert "Everywhere" in chat.of("feishu")[0].body["content"]["text"]
    assert len(smtp.messages) == 1 and "Everywhere" in smtp.messages[0]["Subject"]


async def test_wrong_secret_is_a_permanent_failure(service: Service, chat: ChatFakes) -> None:
    tenant = "t-badsign"
    await configure(service, tenant, [dingtalk(chat, secret="SECwrong")], [{"name": "all", "channels": ["ding"]}])
    await post(service, alert_payload(name="X", fingerprint="gg01"), tenant=tenant)

    async def dead() -> bool:
        return bool((await service.query("list-dead-letters", {"tenant": tenant}))["items"])

    await eventually(dead, what="a dead letter")
    letter = (await service.query("list-dead-letters", {"tenant": tenant}))["items"][0]
    assert "310000" in letter["error"] and letter["attempts"] == 1  # no retry can fix a bad signature
    assert chat.rejected == [("dingtalk", "sign")]
    assert "SECwrong" not in json.dumps(letter)


async def test_escalation_unless_acknowledged(service: Service, chat: ChatFakes) -> None:
    from berth_monitor_alert.app import app
    from berth_monitor_alert.handlers import escalate_once

    tenant = "t-esc"
    channels: list[dict[str, Any]] = [
        {
            "name": "first",
            "kind": "slack",
            "url": f"{chat.url}/services/first",
            "escalate_after_minutes": 10,
            "escalate_to": "boss",
        },
        {"name": "boss", "kind": "slack", "url": f"{chat.url}/services/boss"},
    ]
    await configure(service, tenant, channels, [{"name": "all", "channels": ["first"]}])
    await post(service, alert_payload(name="Ignored", fingerprint="hh01"), tenant=tenant)
    await post(service, alert_payload(name="Handled", fingerprint="hh02"), tenant=tenant)
    await eventually(lambda: len(chat.of("slack")) == 2, what="two first messages")

    async def notified() -> bool:
        items = (await service.query("list-alerts", {"tenant": tenant}))["items"]
        return all(i.get("notified") for i in items)

    await eventually(notified)
    await service.send(AckAlert(tenant=tenant, fingerprint="hh02", by="alice", comment="on it"), tenant=tenant)
    await eventually(lambda: service.facts_of("berth.alert.acknowledged.v1", tenant), what="ack fact")
    assert await escalate_once(app.store) == 0  # not yet due
    service.clock.advance(11 * 60)
    assert await escalate_once(app.store) == 1
    await eventually(lambda: [m for m in chat.of("slack") if m.robot == "boss"], what="escalation")
    boss = [m for m in chat.of("slack") if m.robot == "boss"]
    assert len(boss) == 1 and "Ignored" in boss[0].body["text"]
    assert await escalate_once(app.store) == 0  # once per step


async def test_webhook_rejects_bad_payload_with_problem_json(service: Service) -> None:
    async with aiohttp.ClientSession() as http:
        bad = alert_payload()
        bad["alerts"][0].pop("fingerprint")
        async with http.post(service.webhook_url, json=bad) as resp:
            assert resp.status == 400 and resp.content_type == "application/problem+json"
            doc = await resp.json(content_type=None)
            assert doc["field"] == "alerts.0.fingerprint"
        async with http.post(service.webhook_url, data=b"{not json") as resp:
            assert resp.status == 400 and "not JSON" in (await resp.json(content_type=None))["detail"]
        async with http.post(f"{service.webhook_url}?tenant=Bad_Tenant", json=alert_payload()) as resp:
            assert resp.status == 400


async def test_preview_template_query(service: Service) -> None:
    out = await service.query(
        "preview-template",
        {"channel": {"name": "p", "kind": "wecom", "url": "http://x", "timezone": "Asia/Shanghai"}},
    )
    assert "KubeNodeNotReady" in out["title"] and "CST" in out["text"] and out["limit"] == [4096, "bytes"]
    from berth_common.bus import QueryError

    try:
        await service.query(
            "preview-template", {"channel": {"name": "p", "kind": "slack", "url": "http://x"}, "template": "{% if %}"}
        )
    except QueryError as exc:
        assert exc.code == 422
    else:
        raise AssertionError("a broken template must be rejected")


async def test_every_list_answers_its_schema_reply(service: Service, chat: ChatFakes) -> None:
    tenant = "t-lists"
    await configure(service, tenant, [dingtalk(chat)], [{"name": "all", "channels": ["ding"], "continue": True}])
    await post(service, alert_payload(name="DiskFull", fingerprint="ff01"), tenant=tenant)
    await eventually(lambda: chat.of("dingtalk"), what="the DingTalk message")
    for op in ("list-alerts", "list-channels", "list-routes", "list-silences", "list-dead-letters",
               "list-notifications", "list-scaling-policies"):  # fmt: skip
        page = await service.query(op, {"tenant": tenant, "limit": 500, "ignored": "by every request"})
        assert set(page) == {"items", "next"}, op
    routes = await service.query("list-routes", {"tenant": tenant})
    assert routes["items"][0]["continue"] is True
    notes = await service.query("list-notifications", {"tenant": tenant})
    assert notes["items"] and notes["items"][0]["parts"][0]["title"]
    rules = await service.query("render-rules", {"cluster": "c1"})
    assert rules["cluster"] == "c1" and "groups:" in rules["yaml"]
    from berth_common.bus import QueryError

    try:
        await service.query("list-alerts", {"tenant": tenant, "status": "bogus"})
    except QueryError as exc:
        assert exc.code == 400 and "status" in exc.detail
    else:
        raise AssertionError("an unknown status must be a 400")
