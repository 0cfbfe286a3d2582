"""The background prober: the replica holding the lease runs one task per DR group that
probes both sites every interval, folds the results into the group (automatic failover,
drill ends) and carries out the switches that decides."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time

from berth_common.store import NotFound, Store
from berth_common.store.lease import Lease

from . import groups, metrics, plans, state
from .adapters.witness import ask_witness
from .config import Deps
from .domain.events import SwitchStarted
from .domain.group import DrGroup

log = logging.getLogger(__name__)
LEASE_NAME = "prober"


class ProberLoop:
    def __init__(self, store: Store, deps: Deps, *, wake: object = None, holder: str | None = None) -> None:
        self.store = store
        self.deps = deps
        self.wake = wake if callable(wake) else (lambda: None)
        self.holder = holder or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.lease = Lease(
            store.collection(state.LEASES),
            LEASE_NAME,
            holder=self.holder,
            ttl=deps.settings.lease_seconds,
            clock=deps.clock,
        )
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.leader = False

    async def run(self) -> None:
        try:
            while True:
                try:
                    self.leader = await self.lease.acquire()
                except Exception:
                    log.exception("lease renewal failed; stepping down")
                    self.leader = False
                if self.leader:
                    await self._reconcile()
                else:
                    await self._stop_all()
                await asyncio.sleep(min(self.deps.settings.refresh_seconds, self.deps.settings.lease_seconds / 3))
        finally:
            await self._stop_all()
            with contextlib.suppress(Exception):
                await self.lease.release()

    async def _reconcile(self) -> None:
        col = self.store.collection(state.GROUPS)
        keys: set[str] = set()
        after: str | None = None
        while True:
            page = await col.list(after=after, limit=500)
            keys.update(r.key for r in page)
            if len(page) < 500:
                break
            after = page[-1].key
        for key in keys - self.tasks.keys():
            self.tasks[key] = asyncio.create_task(self._group_loop(key), name=f"dr-probe:{key}")
        for key in list(self.tasks):
            if key not in keys or self.tasks[key].done():
                task = self.tasks.pop(key)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _stop_all(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()

    async def _group_loop(self, key: str) -> None:
        tenant, _, name = key.partition(":")
        while True:
            began = time.monotonic()
            try:
                interval = await self.probe_once(tenant, name)
            except NotFound:
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("probing DR group %s failed; retrying", key)
                interval = 1.0
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))

    async def probe_once(self, tenant: str, name: str) -> float:
        """One round for one group; returns its probe interval."""
        rec = await self.store.collection(state.GROUPS).get(state.key(tenant, name))
        if rec is None:
            raise NotFound(state.GROUPS, state.key(tenant, name))
        current = state.load(rec.data)
        spec = current.spec
        within = spec.probe.timeout_seconds
        now = self.deps.clock.now()
        primary, standby = await asyncio.gather(
            self.deps.prober.probe_site(spec.primary, within=within, now=now),
            self.deps.prober.probe_site(spec.standby, within=within, now=now),
        )
        check = None
        active = current.status.active
        h = current.status.health(active)
        failing = not (primary if active == "primary" else standby).ok
        if (
            spec.witness is not None
            and failing
            and h.failures + 1 >= spec.probe.failure_threshold
            and current.status.pending is None
        ):
            # Berth is about to declare the active site down: ask the third vantage point
            check = await ask_witness(spec.witness, spec.name, active, spec.site(active), probe_timeout=within, at=now)
        for role, rnd in (("primary", primary), ("standby", standby)):
            for r in rnd.results:
                metrics.PROBE_UP.labels(tenant, name, role, r.probe).set(1 if r.ok else 0)
        stale: dict[str, bool] = {}

        def fold(g: DrGroup) -> None:
            if g.spec != spec:
                return  # the spec changed while we probed: these results may be for old targets
            if check is not None:
                g.witnessed(check)
            g.observe("primary", primary)
            g.observe("standby", standby)
            g.tick(self.deps.clock.now())
            stale["pending"] = g.pending_is_stale(self.deps.clock.now())

        out = await groups.change(self.store, tenant, name, fold, cause=None, wake=self.wake)
        pending = out.group.status.pending
        started_now = any(isinstance(e, SwitchStarted) for e in out.events)
        if pending is not None and (started_now or stale.get("pending")):
            if not started_now:
                log.warning("re-running switch %s of %s/%s: its executor did not finish", pending.id, tenant, name)
            run = plans.Runner(self.store, self.deps, tenant, wake=self.wake)
            await plans.carry_out(run, out.group, pending)
        return spec.probe.interval_seconds
