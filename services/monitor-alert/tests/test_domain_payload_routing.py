from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from berth_monitor_alert.domain.escalation import due_escalations
from berth_monitor_alert.domain.payload import PayloadInvalid, dedupe_key, parse_payload
from berth_monitor_alert.domain.routing import route
from berth_monitor_alert.domain.silences import Silence, silenced_by
from berth_schema.alert.channels import Channel
from berth_schema.alert.matchers import Matcher
from berth_schema.alert.routing import Route


def payload(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": "4",
        "groupKey": '{}:{alertname="X"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "berth",
        "groupLabels": {"alertname": "X"},
        "commonLabels": {"alertname": "X"},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "X", "severity": "critical", "cluster": "c1"},
                "annotations": {"summary": "s"},
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom",
                "fingerprint": "abc123",
            }
        ],
    }
    body.update(over)
    return body


def test_payload_parses_and_zero_end_time_is_none() -> None:
    p = parse_payload(payload())
    assert p.alerts[0].endsAt is None
    assert p.alerts[0].name == "X"


@pytest.mark.parametrize(
    ("over", "field"),
    [({"version": "3"}, "version"), ({"alerts": []}, "alerts"), ({"status": "odd"}, "status")],
)
def test_bad_payload_names_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadInvalid) as exc:
        parse_payload(payload(**over))
    assert exc.value.field == field


def test_bad_alert_field_is_named_with_its_index() -> None:
    body = payload()
    del body["alerts"][0]["fingerprint"]
    with pytest.raises(PayloadInvalid) as exc:
        parse_payload(body)
    assert exc.value.field == "alerts.0.fingerprint"


def test_dedupe_key_same_for_ha_pair_differs_by_status() -> None:
    a = parse_payload(payload())
    b = parse_payload(payload())
    assert dedupe_key(a.groupKey, a.alerts[0]) == dedupe_key(b.groupKey, b.alerts[0])
    r = payload(status="resolved")
    r["alerts"][0]["status"] = "resolved"
    assert dedupe_key(a.groupKey, a.alerts[0]) != dedupe_key(a.groupKey, parse_payload(r).alerts[0])


@pytest.mark.parametrize(
    ("text", "labels", "hit"),
    [
        ('severity="critical"', {"severity": "critical"}, True),
        ("severity!=critical", {"severity": "critical"}, False),
        ('team=~"db|web"', {"team": "web"}, True),
        ('team=~"db|web"', {"team": "webx"}, False),  # anchored
        ('namespace!~"kube-.*"', {"namespace": "kube-system"}, False),
        ("namespace!~kube-.*", {"namespace": "shop"}, True),
        ('cluster=""', {}, True),  # a missing label is empty
    ],
)
def test_matchers(text: str, labels: dict[str, str], hit: bool) -> None:
    assert Matcher.parse(text).matches(labels) is hit


def test_bad_matchers_are_rejected() -> None:
    with pytest.raises(ValueError, match="expected name"):
        Matcher.parse("no operator")
    with pytest.raises(ValueError, match="bad regular expression"):
        Matcher.parse('a=~"("')


def test_routes_first_match_and_continue() -> None:
    routes = [
        Route(name="db", order=1, matchers=["team=db"], channels=["dba"], **{"continue": True}),
        Route(name="crit", order=2, matchers=['severity="critical"'], channels=["oncall", "dba"]),
        Route(name="all", order=3, matchers=[], channels=["default"]),
    ]
    assert route(routes, {"team": "db", "severity": "critical"}) == ["dba", "oncall"]
    assert route(routes, {"team": "web", "severity": "critical"}) == ["oncall", "dba"]
    assert route(routes, {"team": "web", "severity": "info"}) == ["default"]


def test_silence_window_and_matchers() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    s = Silence(id="s1", matchers=["cluster=c1"], starts_at=now, ends_at=now + timedelta(hours=1), created_by="me")
    assert silenced_by([s], {"cluster": "c1"}, now + timedelta(minutes=5)) is s
    assert silenced_by([s], {"cluster": "c2"}, now + timedelta(minutes=5)) is None
    assert silenced_by([s], {"cluster": "c1"}, now + timedelta(hours=2)) is None
    body = s.to_alertmanager()
    assert body["matchers"] == [{"name": "cluster", "value": "c1", "isRegex": False, "isEqual": True}]
    with pytest.raises(ValueError, match="ends_at must be after"):
        Silence(id="s2", matchers=["a=b"], starts_at=now, ends_at=now, created_by="me")


def test_escalation_after_n_minutes_unless_acked() -> None:
    chans = {
        "first": Channel(name="first", kind="slack", url="http://x", escalate_after_minutes=10, escalate_to="boss"),
        "boss": Channel(name="boss", kind="slack", url="http://y"),
    }
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    state: dict[str, Any] = {"status": "firing", "notified": {"first": t0.isoformat()}, "escalated": {}}
    assert due_escalations(state, chans, t0 + timedelta(minutes=9)) == []
    assert due_escalations(state, chans, t0 + timedelta(minutes=10)) == ["boss"]
    assert due_escalations({**state, "acked_at": t0.isoformat()}, chans, t0 + timedelta(minutes=30)) == []
    assert due_escalations({**state, "escalated": {"boss": "x"}}, chans, t0 + timedelta(minutes=30)) == []
    assert due_escalations({**state, "status": "resolved"}, chans, t0 + timedelta(minutes=30)) == []


def test_channel_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        Channel(name="a", kind="slack", url="http://x", timezone="Mars/Base")
    with pytest.raises(ValueError, match="url must be an http"):
        Channel(name="a", kind="dingtalk", url="ftp://x")
    with pytest.raises(ValueError, match="smtp_host is required"):
        Channel(name="a", kind="email")
    ch = Channel(name="a", kind="dingtalk", url="http://x", secret="SECxyz")
    assert "SECxyz" not in str(ch.public()) and ch.public()["has_secret"] is True
