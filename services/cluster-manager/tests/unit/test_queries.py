"""The typed queries answered straight from the store (no bus, no tenant cluster): the node quota
node-manager asks, addon rows, the creation form's checks, and the declared request models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from berth_cluster_manager import queries
from berth_cluster_manager.app import app
from berth_cluster_manager.bootstrap import bootstrap
from berth_cluster_manager.config import ClusterManagerSettings
from berth_cluster_manager.domain import Cluster, parse_spec
from berth_cluster_manager.providers import Providers
from berth_cluster_manager.state import CLUSTERS, TENANT_LIMITS, TENANT_NODES, cluster_key
from berth_common.bus import QueryError
from berth_common.events import registry
from berth_common.store.memory import MemoryStore
from berth_schema.cluster import (
    CheckNodeQuota,
    GetAddon,
    GetClusterOptions,
    IssueJoinToken,
    ListAddons,
    ListNamespaces,
    RevokeJoinToken,
    ValidateCluster,
)
from pydantic import ValidationError


@pytest.fixture
def store() -> Iterator[MemoryStore]:
    bootstrap(ClusterManagerSettings(), providers=Providers())
    store = MemoryStore()
    app.store = store
    yield store


async def _nodes(store: MemoryStore, tenant: str, count: int, *, limit: int) -> None:
    await store.collection(TENANT_LIMITS).create(tenant, {"tenant": tenant, "limits": {"nodes": limit}})
    for i in range(count):
        node = {"tenant": tenant, "cluster": "c1", "pool": "p", "node": f"n{i}"}
        await store.collection(TENANT_NODES).create(f"{tenant}/c1/n{i}", node)


async def test_node_quota_allows_up_to_the_tenant_limit(store: MemoryStore) -> None:
    await _nodes(store, "t1", 3, limit=5)
    ok = await queries.check_node_quota(CheckNodeQuota(tenant="t1", cluster="c1", adding=2))
    assert (ok.allowed, ok.reason, ok.limit, ok.used) == (True, "", 5, 3)
    over = await queries.check_node_quota(CheckNodeQuota(tenant="t1", cluster="c1", adding=3))
    assert not over.allowed and over.limit == 5 and over.used == 3
    assert "nodes: tenant limit of 5 reached" in over.reason and "would make 6" in over.reason
    # another tenant's nodes do not count; the default limit applies without a limits record
    other = await queries.check_node_quota(CheckNodeQuota(tenant="t2", cluster="c1", adding=200))
    assert other.allowed and other.used == 0 and other.limit == 200


def test_node_quota_request_is_checked() -> None:
    with pytest.raises(ValidationError, match="adding"):
        CheckNodeQuota(tenant="t1", cluster="c1", adding=0)
    with pytest.raises(ValidationError, match="tenant"):
        CheckNodeQuota.model_validate({"cluster": "c1", "adding": 1})


async def _cluster(store: MemoryStore, tenant: str, name: str, *, addons: dict[str, str] | None = None) -> None:
    c = Cluster.request(tenant=tenant, spec=parse_spec({"name": name, "provider": "local"}), at=datetime.now(UTC))
    for addon, version in (addons or {}).items():
        c.set_addon(addon, status="installed", at=datetime.now(UTC), version=version)
    await store.collection(CLUSTERS).create(cluster_key(tenant, name), c.to_doc())


async def test_addon_rows_and_get_addon(store: MemoryStore) -> None:
    await _cluster(store, "t1", "c1", addons={"coredns": "1.0.0"})

    rows = {r.name: r for r in (await queries.list_addons(ListAddons(tenant="t1", cluster="c1"))).items}
    assert rows["coredns"].status == "installed" and rows["coredns"].version == "1.0.0"
    assert rows["ingress-nginx"].status == "not installed" and rows["ingress-nginx"].updated_at is None
    one = await queries.get_addon(GetAddon(tenant="t1", cluster="c1", addon="coredns"))
    assert one == rows["coredns"]
    with pytest.raises(QueryError) as unknown_addon:
        await queries.get_addon(GetAddon(tenant="t1", cluster="c1", addon="dashboard"))
    assert unknown_addon.value.code == 404
    with pytest.raises(QueryError) as unknown_cluster:
        await queries.get_addon(GetAddon(tenant="t1", cluster="nope", addon="coredns"))
    assert unknown_cluster.value.code == 404


async def test_namespace_list_of_a_pending_cluster_says_what_remains(store: MemoryStore) -> None:
    await _cluster(store, "t1", "c2")
    listing = await queries.list_namespaces(ListNamespaces.model_validate({"tenant": "t1", "cluster": "c2"}))
    assert listing.items == [] and listing.limit == 100 and listing.remaining == 97  # the seed's "97 more"


async def test_form_checks_and_options() -> None:
    bad = await queries.validate_cluster(ValidateCluster(spec={"name": "Bad_Name", "description": "x" * 61}))
    assert not bad.valid and {e.field for e in bad.errors} == {"name", "description"}
    good = await queries.validate_cluster(ValidateCluster(spec={"name": "ok", "flavour": 200}))
    assert good.valid and good.pod_capacity is not None and good.pod_capacity >= 200 * 110
    options = await queries.cluster_options(GetClusterOptions())
    assert options.versions and options.flavours[0].nodes > 0


def test_requests_take_the_gateways_payloads_and_callers_fields() -> None:
    # the gateway passes path parameters, paging and filters through: unknown fields are ignored
    req = ListNamespaces.model_validate({"tenant": "t1", "cluster": "c1", "limit": 500, "requested_by": "u"})
    assert req.cluster == "c1"
    # node-manager's ask: tenant, cluster, description and optionally ttl_seconds
    ask = IssueJoinToken.model_validate({"tenant": "t1", "cluster": "c1", "description": "join pool p"})
    assert ask.ttl_seconds == 24 * 3600
    with pytest.raises(ValidationError, match="ttl_seconds"):
        IssueJoinToken.model_validate({"tenant": "t1", "cluster": "c1", "ttl_seconds": True})
    with pytest.raises(ValidationError, match="ttl_seconds"):
        IssueJoinToken.model_validate({"tenant": "t1", "cluster": "c1", "ttl_seconds": 10})
    with pytest.raises(ValidationError, match="token_id"):
        RevokeJoinToken.model_validate({"tenant": "t1", "cluster": "c1", "token_id": "BAD"})


def test_every_answered_query_is_a_schema_query() -> None:
    typed = {q.op for q in registry.queries() if q.service == "cluster-manager"}
    assert set(app.bus.queries) - {"info"} == typed
    assert {"get-addon", "check-node-quota", "get-kubeconfig", "issue-join-token"} <= typed
