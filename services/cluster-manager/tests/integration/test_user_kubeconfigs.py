"""Kubeconfigs by role on a real API server: cluster-manager (real NATS, a local control plane)
issues each role a kubeconfig of its own, and kubectl with it shows what the role can and cannot
do; a re-issue after demotion takes rights away from every token of the user, a revoked or
expired token is refused with 401, and every issue and revoke is a fact without the token."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from berth_cluster_manager import kube
from berth_cluster_manager.app import app
from berth_cluster_manager.bootstrap import bootstrap
from berth_cluster_manager.config import ClusterManagerSettings
from berth_cluster_manager.providers import Providers
from berth_cluster_manager.providers.local import LocalProvider
from berth_common.bus import QueryError
from berth_common.events import Envelope
from berth_common.runtime.settings import ServiceSettings
from berth_common.store.memory import MemoryStore
from berth_schema.cluster import (
    ClusterSpec,
    CreateCluster,
    DeleteCluster,
    GetKubeconfig,
    IssueUserKubeconfig,
    ListUserKubeconfigs,
    RevokeUserKubeconfig,
    UserKubeconfig,
)
from berth_testkit.nats import NatsServer
from berth_testkit.parts import binary
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from kubernetes_asyncio.config import new_client_from_config_dict

TENANT, CLUSTER = "t1", "access"


@dataclass
class Env:
    facts: list[Envelope]
    data_dir: Path
    tmp: Path

    def of(self, fact: str) -> list[Envelope]:
        return [e for e in self.facts if e.subject == f"clusters/{CLUSTER}" and e.type == f"berth.cluster.{fact}.v1"]


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"condition not met in {within}s (last: {last!r})")


@pytest.fixture(scope="module")
async def env(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    data_dir = tmp_path_factory.mktemp("cm-access")
    svc = bootstrap(ClusterManagerSettings(), providers=Providers({"local": LocalProvider(data_dir, ready_timeout=90)}))
    settings = ServiceSettings(nats_url=nats_server.url, data_dir=data_dir, http_port=0, log_json=False)
    await svc.start(settings, store=MemoryStore())
    facts: list[Envelope] = []

    async def collect(msg: Any) -> None:
        facts.append(Envelope.from_json(msg.data))

    sub = await app.bus.nc.subscribe("berth.evt.cluster.>", cb=collect)
    e = Env(facts=facts, data_dir=data_dir, tmp=tmp_path_factory.mktemp("kubeconfigs"))
    try:
        await app.bus.emit(CreateCluster(spec=ClusterSpec(name=CLUSTER, provider="local")), tenant=TENANT)
        await eventually(lambda: _true(e.of("running")), within=120)
        admin = yaml.safe_load((await app.bus.ask(GetKubeconfig(tenant=TENANT, cluster=CLUSTER))).kubeconfig)
        api = await new_client_from_config_dict(admin)
        try:
            for ns in ("team-a", "team-b"):
                await kube.apply(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        finally:
            await api.close()
        yield e
    finally:
        await app.bus.emit(DeleteCluster(cluster=CLUSTER), tenant=TENANT)
        await eventually(lambda: _true(e.of("deleted")), within=120)
        await sub.unsubscribe()
        await app.stop()


async def _true(value: Any) -> Any:
    return value


async def issue(user: str, role: str, *, namespaces: list[str] | None = None, ttl: int = 3600) -> UserKubeconfig:
    req = IssueUserKubeconfig(
        tenant=TENANT, cluster=CLUSTER, user=user, role=role, namespaces=namespaces or [], ttl_seconds=ttl, by="lead"
    )
    got: UserKubeconfig = await app.bus.ask(req, timeout=30)
    return got


def save(env: Env, name: str, kubeconfig: str) -> Path:
    path = env.tmp / f"{name}.yaml"
    path.write_text(kubeconfig)
    path.chmod(0o600)
    return path


async def kubectl(kc: Path, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        binary("kubectl"),
        f"--kubeconfig={kc}",
        "--request-timeout=20s",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def can(kc: Path, verb: str, resource: str, namespace: str | None = None, *more: str) -> bool:
    code, out = await kubectl(kc, "auth", "can-i", verb, resource, *(["-n", namespace] if namespace else []), *more)
    answer = out.strip().splitlines()[-1] if out.strip() else ""
    assert answer in ("yes", "no"), out
    return code == 0 and answer == "yes"


async def test_a_developer_edits_only_their_namespace(env: Env) -> None:
    got = await issue("dev@example.com", "developer", namespaces=["team-a"])
    assert got.role == "developer" and got.namespaces == ["team-a"]
    assert got.service_account.startswith("user-dev-example-com-")
    kc = save(env, "dev", got.kubeconfig)
    code, who = await kubectl(kc, "auth", "whoami", "-o", "json")
    assert code == 0, who
    user = json.loads(who)["status"]["userInfo"]
    assert user["username"] == f"system:serviceaccount:berth-access:{got.service_account}"
    assert "system:masters" not in user["groups"]
    assert user["extra"]["authentication.kubernetes.io/credential-id"] == [f"JTI={got.credential_id}"]

    assert await can(kc, "create", "deployments", "team-a")
    assert not await can(kc, "create", "deployments", "team-b")
    assert not await can(kc, "create", "namespaces")
    assert not await can(kc, "get", "secrets", "kube-system")
    assert not await can(kc, "create", "serviceaccounts", "berth-access", "--subresource=token")
    # the context's namespace is theirs: no -n needed
    code, out = await kubectl(kc, "create", "deployment", "web", "--image=registry.k8s.io/pause:3.10")
    assert code == 0, out
    code, out = await kubectl(kc, "get", "deployment", "web", "-n", "team-a", "-o", "name")
    assert (code, out.strip()) == (0, "deployment.apps/web")
    code, out = await kubectl(kc, "create", "deployment", "web", "--image=registry.k8s.io/pause:3.10", "-n", "team-b")
    assert code != 0 and "forbidden" in out.lower(), out
    code, out = await kubectl(kc, "create", "namespace", "dev-made")
    assert code != 0 and "forbidden" in out.lower(), out
    code, out = await kubectl(kc, "delete", "deployment", "web", "-n", "team-a")
    assert code == 0, out


async def test_a_viewer_lists_but_creates_nothing(env: Env) -> None:
    got = await issue("viv", "viewer")
    kc = save(env, "viewer", got.kubeconfig)
    code, out = await kubectl(kc, "get", "pods", "-A")
    assert code == 0, out
    code, out = await kubectl(kc, "get", "namespaces", "-o", "name")
    assert code == 0 and "namespace/team-a" in out, out
    assert await can(kc, "list", "pods", "team-b")
    assert not await can(kc, "create", "pods", "team-a")
    assert not await can(kc, "get", "secrets", "team-a")  # view never shows secrets
    code, out = await kubectl(kc, "run", "p", "--image=registry.k8s.io/pause:3.10", "-n", "team-a")
    assert code != 0 and "forbidden" in out.lower(), out


async def test_a_tenant_admin_creates_a_namespace_and_a_demotion_takes_it_away(env: Env) -> None:
    first = await issue("tam", "tenant-admin")
    kc = save(env, "tam", first.kubeconfig)
    code, out = await kubectl(kc, "create", "namespace", "admin-made")
    assert code == 0, out
    code, out = await kubectl(kc, "delete", "namespace", "admin-made", "--wait=false")
    assert code == 0, out

    # demoted to viewer: the re-issue re-binds the account, so the token issued before loses rights too
    second = await issue("tam", "viewer")
    assert second.service_account == first.service_account and second.credential_id != first.credential_id
    for path in (kc, save(env, "tam2", second.kubeconfig)):
        assert not await can(path, "create", "namespaces")
        assert await can(path, "list", "pods", "team-a")
        code, out = await kubectl(path, "create", "namespace", "after-demotion")
        assert code != 0 and "forbidden" in out.lower(), out

    rows = (await app.bus.ask(ListUserKubeconfigs(tenant=TENANT, cluster=CLUSTER, user="tam"))).items
    assert [(r.user, r.role, r.credential_id) for r in rows] == [("tam", "viewer", second.credential_id)]


async def test_a_revoked_kubeconfig_is_refused_with_401(env: Env) -> None:
    got = await issue("rev", "developer", namespaces=["team-b"])
    kc = save(env, "rev", got.kubeconfig)
    assert (await kubectl(kc, "get", "pods"))[0] == 0
    revoked = await app.bus.ask(RevokeUserKubeconfig(tenant=TENANT, cluster=CLUSTER, user="rev", by="lead"))
    assert revoked.revoked and revoked.service_account == got.service_account

    async def refused() -> bool:
        code, out = await kubectl(kc, "get", "pods")
        return code != 0 and "Unauthorized" in out

    await eventually(refused)
    assert not (await app.bus.ask(ListUserKubeconfigs(tenant=TENANT, cluster=CLUSTER, user="rev"))).items
    with pytest.raises(QueryError, match="holds no kubeconfig") as again:
        await app.bus.ask(RevokeUserKubeconfig(tenant=TENANT, cluster=CLUSTER, user="rev"))
    assert again.value.code == 404
    [fact] = [e for e in env.of("user-kubeconfig-revoked") if e.data["user"] == "rev"]
    assert fact.data["credential_id"] == got.credential_id and fact.data["role"] == "developer"
    assert fact.data["by"] == "lead" and fact.tenant == TENANT


def _resign(token: str, key_pem: bytes, **claims: Any) -> str:
    """``token`` with ``claims`` changed, signed with the cluster's service-account key (ES256)."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    head, payload, _ = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    signing_input = f"{head}.{b64(json.dumps({**body, **claims}).encode())}"
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


async def test_a_token_expires_at_its_ttl_and_an_expired_one_is_refused_with_401(env: Env) -> None:
    got = await issue("exp", "viewer", ttl=600)
    assert abs(got.expires_at - (datetime.now(UTC) + timedelta(seconds=600))) < timedelta(seconds=30)
    kc = yaml.safe_load(got.kubeconfig)
    token = kc["users"][0]["user"]["token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["exp"] == int(got.expires_at.timestamp()) and claims["jti"] == got.credential_id
    # the API server cannot be made to wait ten minutes here: the same token, expired a minute
    # ago and signed with the cluster's own key, is what it sees once the TTL has passed
    key = (env.data_dir / "clusters" / TENANT / CLUSTER / "pki" / "sa.key").read_bytes()
    past = int(time.time()) - 60
    assert (await kubectl(save(env, "exp", got.kubeconfig), "get", "pods", "-n", "team-a"))[0] == 0
    control = _resign(token, key, exp=past + 3600)  # a valid re-signing is accepted: the key is right
    kc["users"][0]["user"]["token"] = control
    assert (await kubectl(save(env, "exp-control", yaml.safe_dump(kc)), "get", "pods", "-n", "team-a"))[0] == 0
    kc["users"][0]["user"]["token"] = _resign(token, key, exp=past, iat=past - 600, nbf=past - 600)
    code, out = await kubectl(save(env, "exp-expired", yaml.safe_dump(kc)), "get", "pods", "-n", "team-a")
    assert code != 0 and "Unauthorized" in out, out


async def test_requests_outside_the_rules_are_refused(env: Env) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"role": "developer", "namespaces": ["berth-access"]}, 400, "cannot be granted"),
        ({"role": "developer", "namespaces": ["nope"]}, 404, "nope not found"),
        ({"role": "tenant-admin", "namespaces": ["team-a"]}, 400, "leave namespaces empty"),
        ({"role": "viewer", "ttl_seconds": 60}, 400, "ttl_seconds"),
        ({"role": "viewer", "ttl_seconds": 25 * 3600}, 400, "ttl_seconds"),
        ({"role": "root"}, 400, "role"),
    ]
    for extra, code, text in cases:
        with pytest.raises(QueryError, match=text) as refused:
            await app.bus.request(
                "cluster-manager", "issue-user-kubeconfig", {"tenant": TENANT, "cluster": CLUSTER, "user": "x", **extra}
            )
        assert refused.value.code == code, extra
    with pytest.raises(QueryError) as missing:
        await app.bus.ask(IssueUserKubeconfig(tenant=TENANT, cluster="nope", user="x", role="viewer"))
    assert missing.value.code == 404


async def test_issues_are_facts_and_listed_without_the_token(env: Env) -> None:
    got = await issue("lister", "developer")  # every non-system namespace existing now
    assert set(got.namespaces) >= {"team-a", "team-b"} and "berth-access" not in got.namespaces
    assert "default" not in got.namespaces and not any(n.startswith("kube-") for n in got.namespaces)
    token = yaml.safe_load(got.kubeconfig)["users"][0]["user"]["token"]
    listing = await app.bus.request("cluster-manager", "list-user-kubeconfigs", {"tenant": TENANT, "cluster": CLUSTER})
    by_user = {r["user"]: r for r in listing["items"]}
    assert {"dev@example.com", "viv", "tam", "lister", "exp"} <= set(by_user) and "rev" not in by_user
    assert by_user["lister"]["credential_id"] == got.credential_id and not by_user["lister"]["expired"]
    assert token not in json.dumps(listing)
    issued = await eventually(
        lambda: _true([e for e in env.of("user-kubeconfig-issued") if e.data["user"] == "lister"])
    )
    assert issued[0].data["role"] == "developer" and issued[0].data["credential_id"] == got.credential_id
    assert issued[0].data["expires_at"] == got.expires_at.isoformat() and issued[0].data["by"] == "lead"
    assert all(token not in json.dumps(e.data) for e in env.facts)
    # paging by service account
    first = await app.bus.ask(ListUserKubeconfigs(tenant=TENANT, cluster=CLUSTER, limit=2))
    rest = await app.bus.ask(
        ListUserKubeconfigs(tenant=TENANT, cluster=CLUSTER, limit=100, after=first.items[-1].service_account)
    )
    assert [r.user for r in first.items + rest.items] == [r["user"] for r in listing["items"]]


async def test_the_admin_kubeconfig_released_to_a_person_is_a_fact(env: Env) -> None:
    got = await app.bus.ask(GetKubeconfig(tenant=TENANT, cluster=CLUSTER, released_to="root-admin"))
    assert yaml.safe_load(got.kubeconfig)["users"]
    released = await eventually(lambda: _true(env.of("admin-kubeconfig-released")))
    assert [e.data["released_to"] for e in released] == ["root-admin"]  # services' asks leave none
