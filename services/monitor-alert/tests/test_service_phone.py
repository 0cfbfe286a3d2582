"""SMS and voice calls on real NATS against fake providers that verify every signature: Alibaba
Cloud (ACS3), Tencent Cloud (TC3), Twilio (basic auth, X-Twilio-Signature on key presses)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from berth_monitor_alert import state
from berth_monitor_alert.app import app
from berth_monitor_alert.domain.phone import build_phone
from berth_monitor_alert.handlers import escalate_once
from berth_schema.alert.channels import Channel
from ma_fakes.chat import ChatFakes
from ma_fakes.harness import Service, alert_payload, eventually
from ma_fakes.phone import AliyunFake, TencentFake, TwilioFake
from test_service_delivery import configure, post

ALI_ID, ALI_SECRET = "LTAI5tBerthTest", "ali-secret-value"
TC_ID, TC_SECRET = "AKIDberthtest", "tc-secret-value"
TW_SID, TW_TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-token-value"
ONCALL = ["+8613800000001", "+8613800000002"]


@dataclass
class Phones:
    aliyun: AliyunFake
    tencent: TencentFake
    twilio: TwilioFake


@pytest.fixture
async def phones(service: Service) -> AsyncIterator[Phones]:
    def clock() -> float:
        return service.clock.now().timestamp()  # the providers' clocks move with the service's

    fakes = Phones(
        AliyunFake(
            clock=clock,
            keys={ALI_ID: ALI_SECRET},
            templates={
                "SMS_100": {"name", "cluster"},
                "TTS_200": {"alertname", "severity", "cluster", "status", "count"},
            },
        ),
        TencentFake(clock=clock, keys={TC_ID: TC_SECRET}),
        TwilioFake(clock=clock, accounts={TW_SID: TW_TOKEN}),
    )
    for f in (fakes.aliyun, fakes.tencent, fakes.twilio):
        await f.start()
    yield fakes
    for f in (fakes.aliyun, fakes.tencent, fakes.twilio):
        await f.stop()


def aliyun_sms(p: Phones, **over: Any) -> dict[str, Any]:
    return {
        "name": "sms",
        "kind": "aliyun-sms",
        "url": p.aliyun.url,
        "access_key_id": ALI_ID,
        "secret": ALI_SECRET,
        "sign_name": "Berth告警",
        "template_code": "SMS_100",
        "template_params": {"name": "{{ alerts[0].labels.alertname }}", "cluster": "{{ alerts[0].labels.cluster }}"},
        "recipients": ONCALL,
        **over,
    }


def tencent_sms(p: Phones, **over: Any) -> dict[str, Any]:
    return {
        "name": "tsms",
        "kind": "tencent-sms",
        "url": p.tencent.url,
        "access_key_id": TC_ID,
        "secret": TC_SECRET,
        "sms_app_id": "1400000001",
        "sign_name": "Berth",
        "template_code": "1234567",
        "template_params": {"alert": "{{ alerts[0].labels.alertname }}", "sev": "{{ alerts[0].labels.severity }}"},
        "recipients": ONCALL,
        **over,
    }


def twilio(p: Phones, kind: str, **over: Any) -> dict[str, Any]:
    return {
        "name": kind,
        "kind": kind,
        "url": p.twilio.url,
        "access_key_id": TW_SID,
        "secret": TW_TOKEN,
        "caller_id": "+15005550006",
        "recipients": ["+14155550100"],
        **over,
    }


async def dead_letters(svc: Service, tenant: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await svc.query("list-dead-letters", {"tenant": tenant}))["items"]
    return items


async def test_aliyun_sms_is_signed_and_carries_the_template(service: Service, phones: Phones) -> None:
    tenant = "t-ali"
    await configure(service, tenant, [aliyun_sms(phones)], [{"name": "all", "channels": ["sms"]}])
    await post(service, alert_payload(name="DiskFull", fingerprint="p001"), tenant=tenant)
    await eventually(lambda: service.facts_of("berth.alert.notified.v1", tenant), what="notified fact")
    sent = phones.aliyun.of("SendSms")
    assert phones.aliyun.rejected == [] and len(sent) == 2
    assert sorted(g.params["PhoneNumbers"] for g in sent) == ["8613800000001", "8613800000002"]
    for got in sent:
        assert got.params["SignName"] == "Berth告警" and got.params["TemplateCode"] == "SMS_100"
        assert json.loads(got.params["TemplateParam"]) == {"name": "DiskFull", "cluster": "c1"}
        assert got.headers["Authorization"].startswith(f"ACS3-HMAC-SHA256 Credential={ALI_ID},SignedHeaders=")
    notes = (await service.query("list-notifications", {"tenant": tenant}))["items"]
    assert len(notes[0]["provider_ids"]) == 2 and notes[0]["parts"][0]["to"] == ONCALL[0]
    stored = await app.store.collection(state.CHANNELS).get(state.key(tenant, "sms"))
    assert stored is not None and stored.data["secret"].startswith("fernet:") and ALI_SECRET not in str(stored.data)
    listed = await service.query("list-channels", {"tenant": tenant})
    assert ALI_SECRET not in json.dumps(listed) and listed["items"][0]["has_secret"] is True
    assert listed["items"][0]["recipients"] == ONCALL


async def test_each_provider_refuses_a_wrong_secret_and_it_is_not_retried(service: Service, phones: Phones) -> None:
    tenant = "t-badkeys"
    channels = [
        aliyun_sms(phones, secret="wrong"),
        tencent_sms(phones, secret="wrong"),
        twilio(phones, "twilio-sms", secret="wrong"),
    ]
    await configure(service, tenant, channels, [{"name": "all", "channels": [c["name"] for c in channels]}])
    await post(service, alert_payload(name="Nope", fingerprint="p002"), tenant=tenant)

    async def three() -> bool:
        return len(await dead_letters(service, tenant)) == 3

    await eventually(three, what="three dead letters")
    letters = {d["channel"]: d for d in await dead_letters(service, tenant)}
    assert "SignatureDoesNotMatch" in letters["sms"]["error"]
    assert "AuthFailure.SignatureFailure" in letters["tsms"]["error"]
    assert "20003" in letters["twilio-sms"]["error"]
    assert all(d["attempts"] == 1 for d in letters.values())
    assert "wrong" not in json.dumps(list(letters.values()))
    assert phones.aliyun.received == [] and phones.tencent.received == [] and phones.twilio.received == []


async def test_a_tampered_request_is_refused_and_the_untouched_one_accepted(service: Service, phones: Phones) -> None:
    now = service.clock.now().timestamp()
    part = {"title": "t", "text": "x", "to": ONCALL[0], "params": {"name": "A", "cluster": "c1"}}
    ali = Channel.model_validate(aliyun_sms(phones))
    tc = Channel.model_validate(tencent_sms(phones))
    async with aiohttp.ClientSession() as http:
        for nonce, tamper in (("n-1", True), ("n-2", False)):
            req = build_phone(ali, part, tenant="t", now_s=now, nonce=nonce, reference="r1")
            url = req.url.replace("SMS_100", "SMS_999") if tamper else req.url
            async with http.post(url, data=req.body, headers=req.headers) as resp:
                doc = await resp.json()
                assert (resp.status, doc["Code"]) == ((400, "SignatureDoesNotMatch") if tamper else (200, "OK"))
        async with http.post(req.url, data=req.body, headers=req.headers) as resp:  # a replay
            assert (await resp.json())["Code"] == "SignatureNonceUsed"
        for tamper in (True, False):
            req = build_phone(tc, {**part, "to": ONCALL[1]}, tenant="t", now_s=now, nonce="", reference="r2")
            body = req.body.replace(b"1234567", b"7654321") if tamper else req.body
            async with http.post(req.url, data=body, headers=req.headers) as resp:
                doc = (await resp.json())["Response"]
                if tamper:
                    assert doc["Error"]["Code"] == "AuthFailure.SignatureFailure"
                else:
                    assert doc["SendStatusSet"][0]["Code"] == "Ok"
        stale = build_phone(tc, part, tenant="t", now_s=now - 600, nonce="", reference="r3")
        async with http.post(stale.url, data=stale.body, headers=stale.headers) as resp:
            assert (await resp.json())["Response"]["Error"]["Code"] == "AuthFailure.SignatureExpire"
    assert [t.params["TemplateId"] for t in phones.tencent.received] == ["1234567"]


async def test_per_recipient_rate_limit_holds_the_next_message(service: Service, phones: Phones) -> None:
    tenant = "t-tc-rate"
    await configure(service, tenant, [tencent_sms(phones)], [{"name": "all", "channels": ["tsms"]}])
    await post(service, alert_payload(name="First", fingerprint="p003"), tenant=tenant)
    await post(service, alert_payload(name="Second", fingerprint="p004"), tenant=tenant)
    await eventually(lambda: len(phones.tencent.received) == 2, what="the first alert to both numbers")
    await asyncio.sleep(1.0)
    assert len(phones.tencent.received) == 2 and phones.tencent.rejected == []  # held back, not refused
    service.clock.advance(61)
    await eventually(lambda: len(phones.tencent.received) == 4, what="the second alert after a minute")
    assert phones.tencent.rejected == []
    params = [(g.params["PhoneNumberSet"][0], g.params["TemplateParamSet"][0]) for g in phones.tencent.received]
    assert sorted(params) == sorted((n, a) for n in ONCALL for a in ("First", "Second"))
    assert all(g.params["TemplateParamSet"][1] == "critical" for g in phones.tencent.received)


async def test_twilio_sms_is_retried_with_backoff(service: Service, phones: Phones) -> None:
    tenant = "t-tw-retry"
    phones.twilio.fail_next = 2  # Twilio answers 429 (20429) twice
    await configure(service, tenant, [twilio(phones, "twilio-sms")], [{"name": "all", "channels": ["twilio-sms"]}])
    await post(service, alert_payload(name="Flappy", fingerprint="p005"), tenant=tenant)
    await eventually(lambda: service.facts_of("berth.alert.notified.v1", tenant), what="notified fact")
    [fact] = service.facts_of("berth.alert.notified.v1", tenant)
    assert fact.data["attempts"] == 3 and phones.twilio.failures == 2
    [msg] = phones.twilio.messages
    assert msg["To"] == "+14155550100" and msg["From"] == "+15005550006" and "Flappy" in msg["Body"]
    notes = (await service.query("list-notifications", {"tenant": tenant}))["items"]
    assert notes[0]["provider_ids"] == [msg["sid"]]


async def test_escalation_goes_chat_then_sms_then_call_and_a_key_press_acks(
    service: Service, chat: ChatFakes, phones: Phones
) -> None:
    tenant = "t-chain"
    channels = [
        {"name": "chat", "kind": "slack", "url": f"{chat.url}/services/oncall"},
        aliyun_sms(phones, recipients=[ONCALL[0]]),
        twilio(phones, "twilio-voice", name="call", callback_url=service.call_hook_url),
    ]
    route = {
        "name": "critical",
        "channels": ["chat"],
        "escalation": [{"after_minutes": 10, "channels": ["sms"]}, {"after_minutes": 5, "channels": ["call"]}],
    }
    await configure(service, tenant, channels, [route])
    await post(service, alert_payload(name="DatabaseDown", fingerprint="p006"), tenant=tenant)
    await eventually(lambda: chat.of("slack"), what="the chat message")

    async def alert() -> dict[str, Any]:
        items: list[dict[str, Any]] = (await service.query("list-alerts", {"tenant": tenant}))["items"]
        return items[0]

    async def notified() -> bool:
        return bool((await alert())["notified"])

    await eventually(notified, what="chat recorded as notified")
    assert await escalate_once(app.store) == 0
    service.clock.advance(10 * 60)
    assert await escalate_once(app.store) == 1
    await eventually(lambda: phones.aliyun.of("SendSms"), what="the SMS step")
    assert phones.twilio.calls == []
    assert await escalate_once(app.store) == 0  # the call waits its 5 minutes after the SMS
    service.clock.advance(5 * 60)
    assert await escalate_once(app.store) == 1
    await eventually(lambda: phones.twilio.calls, what="the call step")
    [call] = phones.twilio.calls
    assert "DatabaseDown" in call.said and "Press 1" in call.said
    assert call.gather.get("action", "").startswith(service.call_hook_url + "?tenant=t-chain&channel=call")

    assert await phones.twilio.press(call, "1", tamper=True) == 200  # the hook accepts, the service refuses
    await asyncio.sleep(0.5)
    assert (await alert())["acked_at"] is None
    assert await phones.twilio.press(call, "2") == 200  # a genuine press of another key: no ack
    await asyncio.sleep(0.5)
    assert (await alert())["acked_at"] is None
    assert await phones.twilio.press(call, "1") == 200
    await eventually(lambda: service.facts_of("berth.alert.acknowledged.v1", tenant), what="the ack fact")
    acked = await alert()
    assert acked["acked_by"] == "call:+14155550100" and call.sid in acked["ack_comment"]
    assert set(acked["escalation_steps"]) == {"critical#0", "critical#1"}
    assert set(acked["escalated"]) == {"sms", "call"}
    service.clock.advance(3600)
    assert await escalate_once(app.store) == 0
    notes = (await service.query("list-notifications", {"tenant": tenant}))["items"]
    assert [n["call_status"] for n in notes if n["channel"] == "call"] == ["in-progress"]
