"""Two replicas' probers on one store: one leader probes; when it stops, the other takes over."""

from __future__ import annotations

import asyncio

from berth_common.store.memory import MemoryStore
from berth_dr_switcher import state
from berth_dr_switcher.config import Deps, DrSettings
from berth_dr_switcher.domain.group import DrGroup
from berth_dr_switcher.prober import ProberLoop
from berth_schema.dr.spec import parse_spec
from dr_harness.harness import eventually, group_spec
from dr_harness.sites import Site


async def test_one_leader_probes_and_a_standby_replica_takes_over(sites: tuple[Site, Site]) -> None:
    primary, standby = sites
    store = MemoryStore()
    deps = Deps(settings=DrSettings(refresh_seconds=0.05, lease_seconds=0.6))
    spec = parse_spec(group_spec("leader", primary, standby, provider="unused"))
    group = DrGroup.create(spec, now=deps.clock.now())
    await store.collection(state.GROUPS).create(state.key("t1", "leader"), state.dump(group, tenant="t1", into={}))
    a, b = ProberLoop(store, deps, holder="a"), ProberLoop(store, deps, holder="b")
    ta = asyncio.create_task(a.run())
    await eventually(lambda: a.leader and a.tasks, what="a leads")
    tb = asyncio.create_task(b.run())
    await asyncio.sleep(0.5)
    assert a.leader and not b.leader and not b.tasks
    before = primary.requests
    await asyncio.sleep(1.0)
    # one prober at 0.2s intervals: about 5 requests, not 10
    assert 3 <= primary.requests - before <= 7, primary.requests - before
    ta.cancel()
    await asyncio.gather(ta, return_exceptions=True)
    await eventually(lambda: b.leader and b.tasks, within=3, what="b takes over")
    rec = await store.collection(state.GROUPS).get(state.key("t1", "leader"))
    assert rec is not None and rec.data["status"]["primary"]["healthy"] is True
    tb.cancel()
    await asyncio.gather(tb, return_exceptions=True)
    await deps.prober.close()
