"""SMS / voice signing pinned to the providers' published vectors, and the phone-channel and
escalation-chain rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from berth_monitor_alert.domain import cloudsign
from berth_monitor_alert.domain.escalation import due_escalations, due_route_steps
from berth_monitor_alert.domain.phone import build_phone, phone_answer
from berth_schema.alert import PutChannel, PutRoute
from berth_schema.alert.callbacks import twilio_signature, valid_twilio_signature
from berth_schema.alert.channels import Channel
from berth_schema.alert.routing import Route
from ma_fakes.phone import aliyun_expected_signature, tencent_expected_signature, twilio_request_signature
from pydantic import ValidationError

# Alibaba Cloud's worked example in "V3版本请求体&签名机制" (ECS RunInstances).
ALIYUN_HEADERS = {
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "x-acs-action": "RunInstances",
    "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "x-acs-date": "2023-10-26T10:22:32Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-version": "2014-05-26",
}
ALIYUN_QUERY = {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"}
ALIYUN_SIGNATURE = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
# Tencent Cloud's worked example in "签名方法 v3" (CVM DescribeInstances, 2019-02-25).
TENCENT_BODY = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
TENCENT_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Host": "cvm.tencentcloudapi.com"}
TENCENT_SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
TENCENT_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"


def test_alibaba_acs3_matches_the_published_example() -> None:
    query = cloudsign.canonical_query(ALIYUN_QUERY.items())
    signed, signature = cloudsign.acs3_signature(
        method="POST", path="/", query=query, headers=ALIYUN_HEADERS, secret="YourAccessKeySecret"
    )
    assert signed == "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    assert signature == ALIYUN_SIGNATURE
    # the fake recomputes it the provider's way, independently
    fake = aliyun_expected_signature(
        "POST", "/", ALIYUN_QUERY, ALIYUN_HEADERS, signed.split(";"), "YourAccessKeySecret"
    )
    assert fake == ALIYUN_SIGNATURE


def test_alibaba_percent_encoding_is_rfc3986() -> None:
    assert cloudsign.canonical_query([("b", "a b*c~+"), ("a", "短信")]) == "a=%E7%9F%AD%E4%BF%A1&b=a%20b%2Ac~%2B"


def test_tencent_tc3_matches_the_published_example() -> None:
    canonical, signed = cloudsign.tc3_canonical_request(
        method="POST", query="", headers=TENCENT_HEADERS, payload=TENCENT_BODY
    )
    assert signed == "content-type;host"
    assert (
        cloudsign.sha256_hex(canonical.encode()) == "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    sts = cloudsign.tc3_string_to_sign(
        timestamp=1551113065, scope="2019-02-25/cvm/tc3_request", canonical_request=canonical
    )
    sig = cloudsign.tc3_signature(secret_key=TENCENT_KEY, date="2019-02-25", service="cvm", string_to_sign=sts)
    assert sig == TENCENT_SIGNATURE
    fake = tencent_expected_signature(
        method="POST", raw_query="", headers=TENCENT_HEADERS, signed=["content-type", "host"], payload=TENCENT_BODY,
        timestamp="1551113065", scope="2019-02-25/cvm/tc3_request", secret_key=TENCENT_KEY,
    )  # fmt: skip
    assert fake == TENCENT_SIGNATURE


def test_twilio_signature_matches_the_published_example() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234"}
    params |= {"From": "+14158675309", "To": "+18005551212"}
    assert twilio_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_request_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert valid_twilio_signature(url, params, "12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not valid_twilio_signature(url, {**params, "Digits": "1"}, "12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not valid_twilio_signature(url, params, "12345", "")


def sms(**over: Any) -> dict[str, Any]:
    return {
        "name": "sms",
        "kind": "aliyun-sms",
        "access_key_id": "LTAIkey",
        "secret": "alisecret",
        "sign_name": "Berth",
        "template_code": "SMS_123",
        "recipients": ["+8613800000001"],
        **over,
    }


def test_phone_channels_validate_numbers_and_credentials() -> None:
    assert Channel.model_validate(sms()).phone
    for bad, why in [
        ({"recipients": ["13800000001"]}, "recipients.0"),
        ({"recipients": []}, "recipients are required"),
        ({"secret": None}, "credentials"),
        ({"template_code": ""}, "template_code"),
        ({"kind": "tencent-sms"}, "sms_app_id"),
        ({"kind": "twilio-voice", "caller_id": "+15550001111"}, "callback_url"),
        ({"url": "ftp://x"}, "endpoint override"),
    ]:
        with pytest.raises(ValidationError) as exc:
            Channel.model_validate(sms(**bad))
        assert why in str(exc.value), (bad, str(exc.value))
    ch = Channel.model_validate(sms())
    assert "alisecret" not in repr(ch) and "alisecret" not in str(ch.public())
    assert ch.public()["has_secret"] is True
    # the command carries it on the wire
    assert "alisecret" in PutChannel(tenant="t", channel=ch).model_dump_json()


def test_an_escalation_chain_never_repeats_a_channel() -> None:
    ok = PutRoute.model_validate(
        {
            "tenant": "t",
            "route": {
                "name": "r",
                "channels": ["chat"],
                "escalation": [{"after_minutes": 5, "channels": ["sms"]}, {"after_minutes": 5, "channels": ["call"]}],
            },
        }
    )
    assert [s.channels for s in ok.route.escalation] == [["sms"], ["call"]]
    with pytest.raises(ValidationError, match="already notified"):
        Route.model_validate(
            {"name": "r", "channels": ["chat"], "escalation": [{"after_minutes": 5, "channels": ["chat"]}]}
        )


def test_route_steps_come_one_after_another_until_acknowledged() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    r = Route.model_validate(
        {
            "name": "r",
            "channels": ["chat"],
            "escalation": [{"after_minutes": 10, "channels": ["sms"]}, {"after_minutes": 5, "channels": ["call"]}],
        }
    )
    alert: dict[str, Any] = {"status": "firing", "labels": {"a": "b"}, "notified": {"chat": t0.isoformat()}}
    assert due_route_steps(alert, [r], t0 + timedelta(minutes=9)) == []
    [step] = due_route_steps(alert, [r], t0 + timedelta(minutes=10))
    assert step.channels == ("sms",) and step.key == "r#0"
    alert["escalation_steps"] = {"r#0": (t0 + timedelta(minutes=10)).isoformat()}
    assert due_route_steps(alert, [r], t0 + timedelta(minutes=14)) == []
    [step] = due_route_steps(alert, [r], t0 + timedelta(minutes=15))
    assert step.channels == ("call",)
    assert due_route_steps({**alert, "acked_at": t0.isoformat()}, [r], t0 + timedelta(hours=1)) == []
    # with no channel notified (the chat robot is down), the chain counts from the occurrence
    seen = {"status": "firing", "labels": {}, "notified": {}, "occurrence_seen": t0.isoformat()}
    assert [s.key for s in due_route_steps(seen, [r], t0 + timedelta(minutes=10))] == ["r#0"]


def test_channel_escalations_follow_on_from_an_escalated_channel() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    chans = {
        "chat": Channel.model_validate(
            {"name": "chat", "kind": "slack", "url": "http://x", "escalate_after_minutes": 5, "escalate_to": "sms"}
        ),
        "sms": Channel.model_validate(sms(escalate_after_minutes=5, escalate_to="call")),
    }
    alert = {"status": "firing", "notified": {"chat": t0.isoformat()}, "escalated": {"sms": t0.isoformat()}}
    assert due_escalations(alert, chans, t0 + timedelta(minutes=5)) == ["call"]


def test_requests_and_answers_per_provider() -> None:
    part = {"title": "t", "text": "disk full", "to": "+8613800000001", "params": {"alertname": "DiskFull"}}
    req = build_phone(
        Channel.model_validate(sms()), part, tenant="t1", now_s=1_700_000_000, nonce="n1", reference="nid"
    )
    assert req.encoded and "PhoneNumbers=8613800000001" in req.url and "TemplateCode=SMS_123" in req.url
    assert req.headers["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAIkey,SignedHeaders=host;x-acs-")
    assert phone_answer(Channel.model_validate(sms()), 200, b'{"Code":"OK","BizId":"b1"}') == (True, False, "ok", "b1")
    ok, permanent, detail, _ = phone_answer(
        Channel.model_validate(sms()), 200, b'{"Code":"isv.BUSINESS_LIMIT_CONTROL"}'
    )
    assert not ok and not permanent and "BUSINESS_LIMIT_CONTROL" in detail
    ok, permanent, _, _ = phone_answer(Channel.model_validate(sms()), 400, b'{"Code":"SignatureDoesNotMatch"}')
    assert not ok and permanent
