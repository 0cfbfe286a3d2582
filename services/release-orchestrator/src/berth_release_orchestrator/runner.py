"""The step runner: a background loop that advances every active release (pauses,
analysis, weights, promotion, rollback). Its state lives in the store, so a restarted or
another replica picks up where it stopped; one replica at a time holds the lease."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

import aiohttp
from berth_common.store import Conflict, Store
from berth_common.store.lease import Lease
from berth_schema.release.analysis import AnalysisSpec
from kubernetes_asyncio.client.exceptions import ApiException

from . import state
from .adapters.clusters import ClusterUnreachable
from .adapters.kube import KubeError, Workloads
from .adapters.prometheus import QueryFailed, instant
from .config import Deps
from .domain.analysis import Measurement, judge
from .domain.release import Release, Seen, advance, desired

log = logging.getLogger(__name__)
LEASE_KEY = "runner"


class Runner:
    def __init__(self, store: Store, deps: Deps, *, wake_relay: Callable[[], None]) -> None:
        self.store = store
        self.deps = deps
        self.wake_relay = wake_relay
        self._wake = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self.leader = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                if await self.hold_lease():
                    await self.tick_all()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.deps.settings.tick_seconds)
        finally:
            await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def hold_lease(self) -> bool:
        """Take or renew the lease; False while another replica holds it."""
        held = await self._lease().acquire()
        if held and not self.leader:
            log.info("runner lease taken", extra={"holder": self.deps.holder})
        self.leader = held
        return held

    async def release_lease(self) -> None:
        await self._lease().release()
        self.leader = False

    def _lease(self) -> Lease:
        return Lease(
            self.store.collection(state.LEASES),
            LEASE_KEY,
            holder=self.deps.holder,
            ttl=self.deps.settings.lease_seconds,
            clock=self.deps.clock,
        )

    async def tick_all(self) -> None:
        col = self.store.collection(state.RELEASES)
        for rec in await state.list_all(col, where={"active": True}):
            try:
                await self.tick(rec.key)
            except Exception:
                log.exception("release %s: tick failed", rec.key)

    async def tick(self, key: str) -> Release | None:
        """One step of one release: make the cluster match the current step, then advance."""
        col = self.store.collection(state.RELEASES)
        rec = await col.get(key)
        rel = state.load_release(rec)
        if rec is None or rel is None or not rel.active:
            return rel
        now = self.deps.clock.now()
        seen = await self._observe(rel, now)
        before = state.release_doc(rel)
        facts = advance(rel, now, seen)
        after = state.release_doc(rel)
        if after == before and not facts:
            return rel
        events = state.envelopes(
            facts, tenant=rel.tenant, subject=state.release_subject(rel.name), **state.runner_attrs(rel)
        )
        try:
            await col.replace(key, after, expected_version=rec.version, events=events)
        except Conflict:
            return None  # a command changed the release meanwhile; the next tick starts from it
        if facts:
            self.wake_relay()
            self._wake.set()  # a step finished: start the next one without waiting a tick
        return rel

    async def _observe(self, rel: Release, now: datetime) -> Seen:
        d = desired(rel, now)
        try:
            wl = await self.deps.cluster_access().workloads(rel.tenant, rel.cluster, rel.namespace)
            for obj in d.apply:
                await wl.apply(obj)
            for name, replicas in d.scale.items():
                await wl.scale("Deployment", name, replicas)
            for kind, name in d.delete:
                await wl.delete(kind, name)
            waiting = await _not_available(wl, d.available)
        except (KubeError, ClusterUnreachable, ApiException, aiohttp.ClientError, OSError) as exc:
            why = str(exc) if not isinstance(exc, ApiException) else f"{exc.status} {exc.reason}"
            log.warning("release %s/%s: %s", rel.tenant, rel.name, why)
            return Seen(available=False, not_available=[f"error: {why}"])
        measurement = await self._measure(rel, d.measure, now) if d.measure is not None else None
        return Seen(available=not waiting, not_available=waiting, measurement=measurement)

    async def _measure(self, rel: Release, spec: AnalysisSpec, now: datetime) -> Measurement:
        url = spec.prometheus_url or self.deps.settings.prometheus_url
        if not url:
            return judge(
                spec, None, at=now, error="no Prometheus: set analysis.prometheus_url or BERTH_RO_PROMETHEUS_URL"
            )
        if self._http is None:
            self._http = aiohttp.ClientSession()
        query = spec.rendered_query(app=rel.name, namespace=rel.namespace, release=rel.name)
        try:
            value = await instant(self._http, url, query)
        except QueryFailed as exc:
            return judge(spec, None, at=now, error=str(exc))
        return judge(spec, value, at=now)


async def _not_available(wl: Workloads, names: list[str]) -> list[str]:
    out = []
    for name in names:
        ok, why = await wl.availability(name)
        if not ok:
            out.append(f"{name} ({why})")
    return out
