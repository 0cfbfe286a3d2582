"""Domain rules without servers: filters, planning, webhooks, secrets, DR lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from berth_common.sealing import KEY_ENV, Sealer, SecretUnreadable
from berth_registry_sync import deps
from berth_registry_sync.app import app
from berth_registry_sync.bootstrap import bootstrap
from berth_registry_sync.deps import registry_client
from berth_registry_sync.domain.executions import Execution, plan
from berth_registry_sync.domain.webhooks import EVENTS_V2, BadPayload, parse_notification
from berth_registry_sync.oci import RegistryClient
from berth_registry_sync.oci.challenge import parse_challenges
from berth_registry_sync.settings import RegistrySyncSettings
from berth_schema.registry import PutRegistry
from berth_schema.registry.dr import DrPairSpec, DrState
from berth_schema.registry.filters import Filter
from berth_schema.registry.policies import PolicySpec
from berth_schema.registry.registries import REDACTED, RegistrySpec
from cryptography.fernet import Fernet
from pydantic import ValidationError

TAGS = ["1.0.0", "1.2.3", "1.9.0-rc.1", "2.0.0", "v2.1", "latest", "dev-abc", "sha256-" + "a" * 64]


def policy(*filters: dict[str, Any], **kw: Any) -> PolicySpec:
    return PolicySpec(tenant="t1", name="p", source="a", destination="b", filters=[Filter(**f) for f in filters], **kw)


@pytest.mark.parametrize(
    ("filters", "want"),
    [
        ([], ["1.0.0", "1.2.3", "1.9.0-rc.1", "2.0.0", "dev-abc", "latest", "v2.1"]),
        ([{"on": "tag", "pattern": "1.*"}], ["1.0.0", "1.2.3", "1.9.0-rc.1"]),
        ([{"on": "tag", "kind": "regex", "pattern": r"v?\d+\.\d+(\.\d+)?"}], ["1.0.0", "1.2.3", "2.0.0", "v2.1"]),
        ([{"on": "tag", "kind": "semver", "pattern": "^1.2"}], ["1.2.3", "1.9.0-rc.1"]),
        (
            [{"on": "tag", "kind": "semver", "pattern": ">=1.0.0 <2.0.0 || >=2.1"}],
            ["1.0.0", "1.2.3", "1.9.0-rc.1", "v2.1"],
        ),
        ([{"on": "tag", "kind": "semver", "pattern": "~1.2.0"}], ["1.2.3"]),
        (
            [
                {"on": "tag", "pattern": "*"},
                {"on": "tag", "pattern": "dev-*", "decision": "exclude"},
                {"on": "tag", "pattern": "latest", "decision": "exclude"},
            ],
            ["1.0.0", "1.2.3", "1.9.0-rc.1", "2.0.0", "v2.1"],
        ),
    ],
)
def test_tag_filters_include_and_exclude_as_written(filters: list[dict[str, Any]], want: list[str]) -> None:
    tasks = plan(policy(*filters), {"app": TAGS})
    assert sorted(t.tag for t in tasks if not t.tag.startswith("sha256-")) == sorted(want)
    # a referrers listing follows its subject whatever the filters say (the copier checks the subject)
    assert [t.tag for t in tasks if t.tag.startswith("sha256-")] == [TAGS[-1]]
    assert all(not t.tag.startswith("sha256-") for t in plan(policy(*filters, referrers=False), {"app": TAGS}))


def test_repository_filters_and_prefix() -> None:
    p = policy(
        {"on": "repository", "pattern": "team-a/**"},
        {"on": "repository", "pattern": "*/tmp-*", "decision": "exclude"},
        destination_prefix="mirror/",
    )
    tasks = plan(p, {"team-a/web": ["1"], "team-a/tmp-x": ["1"], "team-b/web": ["1"]})
    assert [(t.repository, t.destination) for t in tasks] == [("team-a/web", "mirror/team-a/web")]


def test_delete_only_when_opted_in() -> None:
    src, dst = {"app": ["1", "2"]}, {"app": ["1", "2", "old"]}
    assert [t.action for t in plan(policy(), src, dst)] == ["copy", "copy"]
    deletes = [t for t in plan(policy(delete=True), src, dst) if t.action == "delete"]
    assert [t.tag for t in deletes] == ["old"]


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"on": "tag", "kind": "regex", "pattern": "(["}, "not a valid regex"),
        ({"on": "tag", "kind": "semver", "pattern": ">=banana"}, "not a comparator"),
        ({"on": "repository", "kind": "semver", "pattern": "^1"}, "tags only"),
        ({"on": "label", "pattern": "x"}, "on"),
    ],
)
def test_bad_filters_are_refused_with_the_reason(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Filter(**doc)
    assert field in str(err.value)


def test_bad_policy_fields_are_named() -> None:
    with pytest.raises(ValidationError) as err:
        PolicySpec(tenant="t1", name="p", source="a", destination="b", triggers={"cron": "every day"})
    assert "cron" in str(err.value) and "not a valid cron" in str(err.value)
    with pytest.raises(ValidationError, match="concurrency"):
        PolicySpec(tenant="t1", name="p", source="a", destination="b", concurrency=0)


def test_registry_password_is_never_shown() -> None:
    spec = RegistrySpec(tenant="t1", name="a", url="https://reg.example:5000/", username="u", password="s3cret")
    assert "s3cret" not in repr(spec) and "s3cret" not in str(spec.public())
    assert spec.public()["password"] == REDACTED and spec.url == "https://reg.example:5000"
    # the wire form of the command carries it once; the secrets document keeps it
    assert PutRegistry(registry=spec).model_dump(mode="json")["registry"]["password"] == "s3cret"
    assert RegistrySpec.restore(spec.public(), spec.secret()).password.get_secret_value() == "s3cret"  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="url"):
        RegistrySpec(tenant="t1", name="a", url="ftp://x")


def test_distribution_notifications_v1_and_v2() -> None:
    body = {
        "events": [
            {
                "id": "e1",
                "action": "push",
                "target": {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + "1" * 64,
                    "repository": "apps/web",
                    "url": "http://127.0.0.1:5000/v2/apps/web/manifests/sha256:11",
                    "tag": "1.0",
                },
            },
            {
                "id": "e2",
                "action": "push",
                "target": {
                    "mediaType": "application/octet-stream",
                    "repository": "apps/web",
                    "digest": "sha256:" + "2" * 64,
                },
            },
            {
                "id": "e3",
                "action": "pull",
                "target": {
                    "repository": "apps/web",
                    "tag": "1.0",
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                },
            },
        ]
    }
    got = parse_notification(body)
    assert [(p.repository, p.tag, p.host) for p in got] == [("apps/web", "1.0", "127.0.0.1:5000")]
    assert EVENTS_V2.endswith("events.v2+json")
    with pytest.raises(BadPayload, match=r"events\[0\].target.repository"):
        parse_notification({"events": [{"action": "push", "target": {}}]})
    with pytest.raises(BadPayload, match="body"):
        parse_notification([1])


def test_harbor_webhook() -> None:
    body = {
        "type": "PUSH_ARTIFACT",
        "event_data": {
            "resources": [{"digest": "sha256:ab", "tag": "v1", "resource_url": "harbor.local/proj/app:v1"}],
            "repository": {"repo_full_name": "proj/app"},
        },
    }
    assert [(p.repository, p.tag, p.host) for p in parse_notification(body)] == [("proj/app", "v1", "harbor.local")]


def test_dr_lag_per_repository_and_switch() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    state = DrState(spec=DrPairSpec(tenant="t1", name="reg", primary="a", standby="b"))
    state.pushed("apps/web", "1", "sha256:1", t0)
    state.pushed("apps/api", "1", "sha256:9", t0 + timedelta(seconds=5))
    state.synced("apps/api", "1", "sha256:9", t0 + timedelta(seconds=6))
    assert state.lag(t0 + timedelta(seconds=30)) == {"apps/api": 0.0, "apps/web": 30.0}
    assert state.switch("standby", at=t0, reason="primary down") and state.pull_registry == "b"
    assert not state.switch("standby", at=t0, reason="again")
    with pytest.raises(ValidationError, match="different"):
        DrPairSpec(tenant="t1", name="x", primary="a", standby="a")


def test_execution_finish_and_failures() -> None:
    ex = Execution(
        id="x",
        tenant="t1",
        policy="p",
        trigger="manual",
        started_at=datetime.now(UTC),
        tasks=plan(policy(), {"app": ["1", "2"]}),
    )
    ex.tasks[0].status, ex.tasks[1].status = "copied", "failed"
    ex.finish(datetime.now(UTC))
    assert ex.status == "failed" and [t.tag for t in ex.failures()] == ["2"]
    assert ex.counts() == {"total": 2, "copied": 1, "failed": 1}
    # the get-execution reply: the execution's fields, counts and bytes, and its tasks
    detail = ex.detail().model_dump(mode="json")
    assert set(detail) == set(ex.model_dump()) | {"counts", "bytes"}
    assert detail["counts"] == ex.counts() and detail["tasks"] == [t.model_dump(mode="json") for t in ex.tasks]
    assert "tasks" not in ex.summary().model_dump()


def test_www_authenticate_parsing() -> None:
    [c] = parse_challenges('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"')
    assert (c.scheme, c.realm, c.params["scope"]) == (
        "bearer",
        "https://auth.example/token",
        "repository:a/b:pull,push",
    )
    two = parse_challenges('Basic realm="x \\"y\\"", Bearer realm=https://t,service=s')
    assert [(x.scheme, x.realm) for x in two] == [("basic", 'x "y"'), ("bearer", "https://t")]
    with pytest.raises(ValueError, match="unterminated"):
        parse_challenges('Bearer realm="oops')


def test_one_bandwidth_bucket_per_policy() -> None:
    from berth_registry_sync.runner import policy_bucket

    capped = policy(bandwidth_kbps=512)
    first = policy_bucket(capped)
    assert first is not None and first is policy_bucket(capped) and first.rate == 512 * 1024
    assert policy_bucket(capped.model_copy(update={"bandwidth_kbps": 1024})) is not first
    assert policy_bucket(policy()) is None


def test_sealer_key_file_env_key_and_wrong_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    first = Sealer.configured(tmp_path, service="registry-sync")
    assert (tmp_path / "registry-sync-secrets.key").stat().st_mode & 0o777 == 0o600
    sealed = first.seal("s3cret")
    assert (
        "s3cret" not in sealed and Sealer.configured(tmp_path, service="registry-sync").unseal(sealed) == "s3cret"
    )  # same key file
    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())
    with pytest.raises(SecretUnreadable, match=KEY_ENV):
        Sealer.configured(tmp_path, service="registry-sync").unseal(sealed)
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(ValueError, match="not a Fernet key"):
        Sealer.configured(tmp_path, service="registry-sync")


def test_bootstrap_wires_the_clock_the_registry_clients_and_the_tick() -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)

    def clients(spec: RegistrySpec) -> RegistryClient:
        return registry_client(spec)

    try:
        settings = RegistrySyncSettings(registry_sync_tick_seconds=2)
        assert bootstrap(settings, clock=lambda: at, clients=clients) is app
        assert deps.now() == at and deps.wiring.clients is clients and deps.wiring.scheduler_tick == 2
        assert {"list-registries", "dr-status"} <= set(app.bus.queries)
    finally:
        bootstrap(RegistrySyncSettings())
    assert deps.wiring.clients is registry_client
