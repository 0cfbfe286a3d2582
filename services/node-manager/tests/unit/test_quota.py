"""node-manager asks cluster-manager's check-node-quota before a user action adds nodes."""

from __future__ import annotations

import pytest
from berth_common.bus import QueryError, Transient
from berth_node_manager.quota import AskClusterManager, QuotaRefused
from berth_schema.cluster import CheckNodeQuota, NodeQuota


class Answers:
    def __init__(self, reply: NodeQuota | QueryError) -> None:
        self.reply = reply
        self.asked: list[CheckNodeQuota] = []

    async def __call__(self, req: CheckNodeQuota) -> NodeQuota:
        self.asked.append(req)
        if isinstance(self.reply, QueryError):
            raise self.reply
        return self.reply


async def test_allowed_additions_pass_and_nothing_is_asked_for_none() -> None:
    ask = Answers(NodeQuota(allowed=True, reason="", limit=10, used=2))
    quota = AskClusterManager(ask)
    await quota.ensure(tenant="t1", cluster="c1", adding=3, field="count")
    await quota.ensure(tenant="t1", cluster="c1", adding=0, field="count")
    assert [(q.tenant, q.cluster, q.adding) for q in ask.asked] == [("t1", "c1", 3)]


async def test_a_refusal_names_the_field_and_the_reason() -> None:
    quota = AskClusterManager(Answers(NodeQuota(allowed=False, reason="limit 10 reached", limit=10, used=9)))
    with pytest.raises(QuotaRefused, match=r"^count: adding 2 node\(s\) is refused: limit 10 reached$"):
        await quota.ensure(tenant="t1", cluster="c1", adding=2, field="count")
    quota = AskClusterManager(Answers(NodeQuota(allowed=False, reason="", limit=4, used=4)))
    with pytest.raises(QuotaRefused, match="the tenant node limit is 4 and 4 are in use"):
        await quota.ensure(tenant="t1", cluster="c1", adding=1, field="delta")


async def test_an_unknown_cluster_refuses_and_an_absent_cluster_manager_retries() -> None:
    quota = AskClusterManager(Answers(QueryError(404, "cluster c1 not found")))
    with pytest.raises(QuotaRefused, match="cannot be checked: cluster c1 not found"):
        await quota.ensure(tenant="t1", cluster="c1", adding=1, field="count")
    quota = AskClusterManager(Answers(QueryError(503, "no cluster-manager replica answers")))
    with pytest.raises(Transient):
        await quota.ensure(tenant="t1", cluster="c1", adding=1, field="count")
