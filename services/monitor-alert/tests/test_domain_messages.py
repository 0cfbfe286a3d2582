from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime
from typing import Literal

import pytest
from berth_monitor_alert.domain import outbound, signing
from berth_monitor_alert.domain.payload import Alert
from berth_monitor_alert.domain.ratelimit import SlidingWindow, TokenBucket
from berth_monitor_alert.domain.retry import Backoff
from berth_monitor_alert.domain.splitting import split_message
from berth_monitor_alert.domain.templates import TemplateInvalid, check_template, render, sample_alerts
from berth_schema.alert.channels import Channel, Mentions

NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def test_dingtalk_sign_matches_the_documented_recipe() -> None:
    secret, ts = "SEC000", 1700000000000
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest())
    assert signing.dingtalk_sign(secret, ts) == expected.decode()
    url = signing.dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", secret, ts)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert q["access_token"] == ["t"] and q["timestamp"] == [str(ts)] and q["sign"] == [expected.decode()]


def test_feishu_sign_uses_timestamp_and_secret_as_key_over_empty_message() -> None:
    expected = base64.b64encode(hmac.new(b"1700000000\nsec", b"", hashlib.sha256).digest()).decode()
    assert signing.feishu_sign("sec", 1700000000) == expected


def test_webhook_signature_verifies_and_detects_tampering() -> None:
    sig = signing.webhook_signature("k", 10, b"{}")
    assert signing.verify_webhook_signature("k", 10, b"{}", sig)
    assert not signing.verify_webhook_signature("k", 10, b"{ }", sig)


def test_dingtalk_request_carries_mentions_and_signature() -> None:
    ch = Channel(
        name="d",
        kind="dingtalk",
        url="http://h/robot/send?access_token=t",
        secret="SEC1",
        mentions=Mentions(mobiles=["13800000000"], all=False),
    )
    req = outbound.build(ch, "title", "body", now_s=1700000000.0)
    assert isinstance(req, outbound.HttpRequest)
    doc = json.loads(req.body)
    assert doc["msgtype"] == "markdown" and doc["at"]["atMobiles"] == ["13800000000"]
    assert "@13800000000" in doc["markdown"]["text"]
    assert "sign=" in req.url and "timestamp=1700000000000" in req.url


def test_wecom_text_mentions_and_feishu_body_sign() -> None:
    wc = Channel(
        name="w", kind="wecom", url="http://h/send?key=k", format="text", mentions=Mentions(user_ids=["u1"], all=True)
    )
    doc = json.loads(outbound.build(wc, "t", "b", now_s=1.0).body)  # type: ignore[union-attr]
    assert doc["text"]["mentioned_list"] == ["u1", "@all"]
    fs = Channel(name="f", kind="feishu", url="http://h/hook/x", secret="s")
    doc = json.loads(outbound.build(fs, "t", "b", now_s=1700000000.0).body)  # type: ignore[union-attr]
    assert doc["timestamp"] == "1700000000" and doc["sign"] == signing.feishu_sign("s", 1700000000)


def test_platform_answers() -> None:
    ch = Channel(name="d", kind="dingtalk", url="http://h")
    assert outbound.accepted(ch, 200, b'{"errcode":0}')[0]
    assert outbound.accepted(ch, 200, b'{"errcode":310000,"errmsg":"sign not match"}') == (
        False,
        True,
        "dingtalk error 310000: sign not match",
    )
    assert outbound.accepted(ch, 200, b'{"errcode":130101}')[1] is False  # rate limit: retry
    assert outbound.accepted(ch, 500, b"")[:2] == (False, False)


@pytest.mark.parametrize("unit", ["bytes", "chars"])
def test_split_keeps_lines_and_limits(unit: Literal["bytes", "chars"]) -> None:
    text = "\n".join(f"line {i} 告警内容 " + "x" * 50 for i in range(400))
    parts = split_message(text, 2000, unit=unit)
    size = (lambda s: len(s.encode())) if unit == "bytes" else len
    assert len(parts) > 1 and all(size(p) <= 2000 for p in parts)
    assert "\n".join(parts) == text  # nothing lost, cut only at line ends


def test_split_long_line_never_breaks_utf8() -> None:
    text = "告" * 5000  # 15000 bytes, one line
    parts = split_message(text, 1000)
    assert all(len(p.encode()) <= 1000 for p in parts)
    assert "".join(parts) == text
    for p in parts:
        p.encode().decode("utf-8")  # each part is valid UTF-8 on its own


def test_token_bucket_twenty_a_minute_with_fake_clock() -> None:
    now = [0.0]
    bucket = TokenBucket(per_minute=20, clock=lambda: now[0])
    assert sum(bucket.try_take() for _ in range(25)) == 20
    assert bucket.wait_time() == pytest.approx(3.0)
    now[0] += 3.0
    assert bucket.try_take() and not bucket.try_take()


def test_backoff_grows_and_caps() -> None:
    b = Backoff(base=1, factor=2, cap=5)
    assert [b.delay(i) for i in range(1, 6)] == [1, 2, 4, 5, 5]


def test_template_renders_in_channel_time_zone_and_preview_sample() -> None:
    ch = Channel(name="d", kind="dingtalk", url="http://h", timezone="Asia/Shanghai")
    out = render(ch, sample_alerts(NOW))
    assert "2026-01-01 16:00:00 CST" in out.text and "KubeNodeNotReady" in out.title
    custom = Channel(name="d", kind="slack", url="http://h", template="{{ alerts | length }} on {{ channel.name }}")
    assert render(custom, sample_alerts(NOW)).text == "1 on d"


def test_template_sandbox_and_errors() -> None:
    with pytest.raises(TemplateInvalid, match="does not compile"):
        check_template("{% for %}")
    evil = Channel(name="d", kind="slack", url="http://h", template="{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateInvalid):
        render(evil, sample_alerts(NOW))
    missing = Channel(name="d", kind="slack", url="http://h", template="{{ nope.x }}")
    with pytest.raises(TemplateInvalid, match="rendering failed"):
        render(missing, [Alert(status="firing", startsAt=NOW, fingerprint="f")])


def test_sliding_window_never_allows_more_than_the_limit_in_a_minute() -> None:
    now = [0.0]
    window = SlidingWindow(per_minute=20, clock=lambda: now[0])
    assert sum(window.try_take() for _ in range(25)) == 20
    now[0] = 30.0
    assert not window.try_take() and window.wait_time() == pytest.approx(30.0)
    now[0] = 60.0
    assert sum(window.try_take() for _ in range(25)) == 20
