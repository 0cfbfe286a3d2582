"""Every query reply is the schema's reply model, with the field names and values the gateway,
the CLI and the console read (what the service returned before the models existed)."""

from __future__ import annotations

from typing import Any

import pytest
from berth_release_orchestrator.domain import configs
from berth_release_orchestrator.domain.analysis import AnalysisRun, Measurement
from berth_release_orchestrator.domain.release import Seen
from berth_release_orchestrator.domain.templates import parse_template
from berth_release_orchestrator.queries import summary, template_view
from berth_schema.release import (
    ConfigDiff,
    ConfigDiffReply,
    ConfigHistoryReply,
    ConfigView,
    GetConfig,
    GetRelease,
    GetTemplate,
    ListReleases,
    ReleaseDetail,
)
from pydantic import ValidationError

from .factories import at, promoted_first, revision, tick

CANARY = {"kind": "canary", "steps": [{"set_weight": 20}, {"pause": {}}]}


def _same(model: Any, raw: dict[str, Any]) -> None:
    assert model.model_dump(mode="json") == raw


def test_release_views_round_trip_unchanged() -> None:
    stable = promoted_first(CANARY)
    rel, _ = revision(stable, image="registry.local/web:2.0", strategy=CANARY, now=at(20))
    tick(rel, at(21))
    tick(rel, at(22), Seen())
    rel.analysis_runs.append(
        AnalysisRun(index=1, started_at=at(22), measurements=[Measurement(at=at(23), value=0.5, outcome="success")])
    )
    _same(ReleaseDetail.model_validate(rel.view()), rel.view())
    row = summary(rel).model_dump(mode="json")
    assert row["step"].endswith(f"/{len(rel.steps)}") and row["updated_at"] == rel.updated_at.isoformat()
    assert set(row) == {
        "name", "tenant", "cluster", "namespace", "environment", "revision", "phase", "strategy", "image",
        "weight", "current_step", "step", "updated_at",
    }  # fmt: skip


def test_templates_show_the_owner() -> None:
    tpl = parse_template({"name": "web", "visibility": "public", "workload": {"replicas": 2}}, tenant="acme")
    mine = template_view(tpl, tenant="acme").model_dump(mode="json")
    theirs = template_view(tpl, tenant="other").model_dump(mode="json")
    assert (mine["name"], mine["owner"]) == ("web", "acme")
    assert (theirs["name"], theirs["tenant"], theirs["owner"]) == ("acme/web", "other", "acme")


def test_config_views_history_and_diff() -> None:
    spec = {"name": "db", "app": "web", "environment": "prod", "cluster": "c1", "namespace": "shop"}
    v1, _ = configs.change(None, configs.parse_spec({**spec, "data": {"a": "1"}}), tenant="t1", by="ann", now=at(0))
    v2, _ = configs.change(v1, configs.parse_spec({**spec, "data": {"a": "2"}}), tenant="t1", by="bob", now=at(1))
    _same(ConfigView.model_validate(configs.view(v2)), configs.view(v2))
    hist = {"name": "db", "environment": "prod", "tenant": "t1", "items": configs.history(v2)}
    _same(ConfigHistoryReply.model_validate(hist), hist)
    diff = {"tenant": "t1", **configs.version_diff(v2, 1, 2)}
    _same(ConfigDiffReply.model_validate(diff), diff)
    assert ConfigDiffReply.model_validate(diff).model_dump(mode="json")["from"] == 1

    secret, _ = configs.change(
        None, configs.parse_spec({**spec, "kind": "Secret", "data": {"pw": "hunter2"}}), tenant="t1", by="a", now=at(0)
    )
    shown = ConfigView.model_validate(configs.view(secret)).model_dump(mode="json")
    assert "hunter2" not in str(shown)


def test_requests_take_what_the_gateway_sends() -> None:
    # path parameters, paging and filters pass through; unknown fields are ignored
    assert GetRelease.model_validate({"release": "web", "tenant": "t1", "limit": 500}).release == "web"
    assert GetRelease.model_validate({"name": "web", "tenant": "t1"}).release == "web"
    assert GetTemplate.model_validate({"template": "acme/web", "tenant": "t1"}).template == "acme/web"
    assert GetConfig.model_validate({"config": "db", "tenant": "t1"}).environment is None
    assert ConfigDiff.model_validate({"name": "db", "tenant": "t1", "from": "1", "to": 2}).from_ == 1
    assert ListReleases.model_validate({"tenant": "t1", "limit": 500, "cluster": "c1"}).cluster == "c1"
    with pytest.raises(ValidationError, match="tenant"):
        ListReleases.model_validate({})
