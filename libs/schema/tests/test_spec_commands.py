"""The specs release, alert and DR commands carry: typed, unknown fields refused by name,
errors named by their full path, secrets kept out of repr but carried on the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest
from berth_schema.alert import PutChannel, PutRoute, PutScalingPolicy
from berth_schema.dr import CreateGroup
from berth_schema.release import CreateRelease, PutTemplate, SetConfig
from berth_schema.release.errors import paths
from berth_schema.release.strategy import Canary, PauseStep, Rolling, SetWeightStep
from pydantic import BaseModel, ValidationError

RELEASE = {"tenant": "t1", "name": "web", "cluster": "c1", "namespace": "ns", "template": "web"}


def strict(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    # as the gateway validates a body
    return model.model_validate_json(json.dumps(data), strict=True)


def refused(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as exc:
        strict(model, data)
    return paths(exc.value)


def test_strategy_shorthand_defaults_and_step_spellings() -> None:
    assert CreateRelease.model_validate(RELEASE).strategy == Rolling()
    canary = strict(CreateRelease, {**RELEASE, "strategy": "canary"})
    assert isinstance(canary, CreateRelease) and isinstance(canary.strategy, Canary)
    assert canary.strategy.steps == [SetWeightStep(set_weight=20), PauseStep.model_validate({"pause": {}})]
    written = {"kind": "canary", "steps": [{"setWeight": 10}, {"pause": None}], "max_surge": 1}
    got = strict(CreateRelease, {**RELEASE, "strategy": written})
    assert isinstance(got, CreateRelease) and isinstance(got.strategy, Canary)
    assert got.strategy.max_surge == "1" and len(got.strategy.steps) == 2
    # the wire form reads back as the same strategy
    assert CreateRelease.model_validate(got.model_dump(mode="json")).strategy == got.strategy


@pytest.mark.parametrize(
    ("strategy", "field"),
    [
        ({"kind": "canary", "steps": [{"set_weight": 10}, {"set_weight": 150}]}, "strategy.steps[1].set_weight"),
        ({"kind": "canary", "steps": [{"jump": 1}]}, "strategy.steps[0].jump"),
        ({"kind": "canary", "steps": [{"set_weight": 1, "pause": {}}]}, "strategy.steps[0]"),
        (
            {"kind": "canary", "steps": [{"pause": {"duration_seconds": -1}}]},
            "strategy.steps[0].pause.duration_seconds",
        ),
        ({"kind": "big-bang"}, "strategy.kind"),
        ({"kind": "rolling", "max_surge": 0, "max_unavailable": "0%"}, "strategy.max_unavailable"),
        ({"kind": "canary", "traffic": "cookie", "header_value": "x"}, "strategy.header_value"),
        ({"kind": "blue-green", "colour": "x"}, "strategy.colour"),
    ],
)
def test_strategy_errors_name_the_field(strategy: dict[str, Any], field: str) -> None:
    assert [f for f, _ in refused(CreateRelease, {**RELEASE, "strategy": strategy})] == [field]


def test_release_specs_refuse_unknown_fields() -> None:
    assert refused(CreateRelease, {**RELEASE, "workload": {"image": "nginx:1.27", "replica": 2}})[0][0] == (
        "workload.replica"
    )
    config = {"name": "c", "app": "a", "environment": "prod", "cluster": "c1", "namespace": "ns", "data": {}}
    assert refused(SetConfig, {"tenant": "t1", "config": {**config, "colour": "x"}})[0][0] == "config.colour"
    bad_port = {"name": "web", "workload": {"ports": [{"container_port": 70000}]}}
    assert [f for f, _ in refused(PutTemplate, {"tenant": "t1", "template": bad_port})] == [
        "template.workload.ports[0].container_port"
    ]
    assert [f for f, _ in refused(PutTemplate, {"tenant": "t1", "template": {"name": "w", "kind": "chart"}})] == [
        "template.chart"
    ]


def test_a_channel_secret_stays_out_of_repr_but_travels_in_the_command() -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=tok123"
    cmd = strict(
        PutChannel, {"tenant": "t1", "channel": {"name": "r", "kind": "dingtalk", "url": url, "secret": "SECxyz"}}
    )
    assert isinstance(cmd, PutChannel)
    assert "SECxyz" not in repr(cmd) and "tok123" not in repr(cmd)
    assert cmd.model_dump(mode="json")["channel"]["secret"] == "SECxyz"
    assert PutChannel.model_validate(cmd.model_dump(mode="json")).channel.secret is not None
    assert "SECxyz" not in str(cmd.channel.public())
    smtp = {
        "name": "mail",
        "kind": "email",
        "smtp_host": "mx",
        "email_from": "a@b",
        "email_to": ["c@d"],
        "secret": "pw",
    }
    assert "'pw'" not in repr(strict(PutChannel, {"tenant": "t1", "channel": smtp}))


def test_alert_specs_refuse_unknown_fields_by_name() -> None:
    for model, field, body in [
        (PutChannel, "channel", {"name": "r", "kind": "webhook", "url": "https://x", "colour": 1}),
        (PutRoute, "route", {"name": "r", "channels": ["x"], "colour": 1}),
        (
            PutScalingPolicy,
            "policy",
            {
                "name": "p",
                "target": {"kind": "node-pool", "cluster": "c", "pool": "p"},
                "trigger": {"type": "alert", "matchers": ["a=b"]},
                "min": 1,
                "max": 2,
                "colour": 1,
            },
        ),
    ]:
        with pytest.raises(ValidationError) as exc:
            strict(model, {"tenant": "t1", field: body})
        assert [e["loc"] for e in exc.value.errors()] == [(field, "colour")]
    route = strict(PutRoute, {"tenant": "t1", "route": {"name": "r", "channels": ["x"], "continue": True}})
    assert isinstance(route, PutRoute) and route.route.continue_


def test_a_dr_group_spec_refuses_unknown_fields_by_name() -> None:
    site = {"name": "a", "dns_targets": ["10.0.0.1"], "probes": [{"kind": "tcp", "host": "10.0.0.1", "port": 80}]}
    spec = {"name": "shop", "primary": site, "standby": {**site, "name": "b"}}
    spec["dns"] = {"zone": "example.com", "record": "shop.example.com"}
    assert isinstance(strict(CreateGroup, {"tenant": "t1", "spec": spec}), CreateGroup)
    with pytest.raises(ValidationError) as exc:
        strict(CreateGroup, {"tenant": "t1", "spec": {**spec, "colour": "x"}})
    assert [e["loc"] for e in exc.value.errors()] == [("spec", "colour")]
