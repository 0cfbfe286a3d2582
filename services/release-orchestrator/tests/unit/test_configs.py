"""Config center: versions, diffs, rollback by a new version, secrets never shown."""

from __future__ import annotations

import base64

import pytest
from berth_release_orchestrator.domain import configs
from berth_release_orchestrator.domain.errors import Invalid

from .factories import at

SPEC = {"name": "web-config", "app": "web", "environment": "prod", "cluster": "c1", "namespace": "shop"}


def test_versions_diff_and_rollback() -> None:
    v1, d1 = configs.change(
        None, configs.parse_spec({**SPEC, "data": {"a": "1", "b": "2"}}), tenant="t1", by="ann", now=at(0)
    )
    assert v1.version == 1 and d1 == {"added": ["a", "b"], "removed": [], "changed": []}
    v2, d2 = configs.change(
        v1, configs.parse_spec({**SPEC, "data": {"a": "9", "c": "3"}}), tenant="t1", by="bob", now=at(1)
    )
    assert v2.version == 2 and d2 == {"added": ["c"], "removed": ["b"], "changed": ["a"]}
    assert configs.version_diff(v2, 1, 2)["values"]["a"] == {"from": "1", "to": "9"}
    v3, _ = configs.change(v2, configs.restore_spec(v2, 1), tenant="t1", by="ann", now=at(2), rollback_of=1)
    assert v3.version == 3 and v3.data == {"a": "1", "b": "2"} and v3.versions[-1].rollback_of == 1
    assert [h["version"] for h in configs.history(v3)] == [1, 2, 3]
    with pytest.raises(Invalid) as e:
        v3.at_version(9)
    assert e.value.errors[0][0] == "to_version"
    cm = configs.manifest(v3)
    assert cm["kind"] == "ConfigMap" and cm["data"] == {"a": "1", "b": "2"}
    assert cm["metadata"]["annotations"]["berth.io/config-version"] == "3"


def test_bad_fields_and_fixed_identity() -> None:
    with pytest.raises(Invalid) as e:
        configs.parse_spec({**SPEC, "environment": "Prod!", "data": {"bad key": "x"}})
    assert sorted(f for f, _ in e.value.errors) == ["config.data", "config.environment"]
    v1, _ = configs.change(None, configs.parse_spec({**SPEC, "data": {}}), tenant="t1", by="", now=at(0))
    with pytest.raises(Invalid) as e:
        configs.change(
            v1, configs.parse_spec({**SPEC, "namespace": "other", "data": {}}), tenant="t1", by="", now=at(1)
        )
    assert e.value.errors[0][0] == "config.namespace"


def test_secret_values_are_never_shown() -> None:
    spec = configs.parse_spec({**SPEC, "kind": "Secret", "data": {"password": "hunter2"}})
    v1, _ = configs.change(None, spec, tenant="t1", by="", now=at(0))
    assert "hunter2" not in str(configs.view(v1)) and "hunter2" not in str(configs.history(v1))
    v2, _ = configs.change(
        v1, configs.parse_spec({**SPEC, "kind": "Secret", "data": {"password": "x"}}), tenant="t1", by="", now=at(1)
    )
    assert "values" not in configs.version_diff(v2, 1, 2)
    assert base64.b64decode(configs.manifest(v2)["data"]["password"]) == b"x"
