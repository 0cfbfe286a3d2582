"""Runs one execution of a policy: discover, plan, copy with bounded workers under one bandwidth cap,
record each task and publish progress through the execution record's outbox."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from berth_common.events import Envelope, registry
from berth_common.store import Store
from berth_common.store.unit_of_work import update
from berth_schema.registry import (
    ArtifactCopied,
    ExecutionFailed,
    ExecutionProgress,
    ExecutionStarted,
    ExecutionSucceeded,
)
from berth_schema.registry.policies import PolicySpec
from berth_schema.registry.registries import RegistrySpec
from pydantic import BaseModel

from .deps import ClientFactory, now, registry_client
from .domain.executions import Execution, Task, plan, referrers_tag
from .oci import Copier, CopyOptions, RegistryClient, RegistryError, TokenBucket
from .state import EXECUTIONS

log = logging.getLogger(__name__)
SOURCE = "registry-sync"

Heartbeat = Callable[[], Awaitable[None]]
TaskDone = Callable[[Execution, Sequence[Task]], Awaitable[None]]


_BUCKETS: dict[tuple[str, str], TokenBucket] = {}


def policy_bucket(policy: PolicySpec) -> TokenBucket | None:
    """One bucket per policy in this process, so concurrent executions of a policy share its cap too."""
    rate = policy.bandwidth_bytes
    if rate is None:
        _BUCKETS.pop((policy.tenant, policy.name), None)
        return None
    bucket = _BUCKETS.get((policy.tenant, policy.name))
    if bucket is None or bucket.rate != rate:
        bucket = _BUCKETS[(policy.tenant, policy.name)] = TokenBucket(rate)
    return bucket


class Runner:
    """One execution. ``attrs`` are the envelope attributes (tenant, correlation) for its facts."""

    def __init__(
        self,
        store: Store,
        *,
        policy: PolicySpec,
        source: RegistrySpec,
        destination: RegistrySpec,
        execution: Execution,
        attrs: dict[str, object],
        heartbeat: Heartbeat | None = None,
        on_tasks: TaskDone | None = None,
        wake: Callable[[], None] | None = None,
        flush_every: float = 0.5,
        clients: ClientFactory = registry_client,
    ) -> None:
        self.store, self.policy, self.execution = store, policy, execution
        self.source, self.destination = source, destination
        self.attrs, self.heartbeat, self.on_tasks, self.wake = attrs, heartbeat, on_tasks, wake
        self.flush_every = flush_every
        self.clients = clients
        self._done: list[Task] = []
        self._kept: dict[str, set[str]] = {}
        self._last_flush = time.monotonic()
        self._lock = asyncio.Lock()

    def _env(self, payload: BaseModel) -> Envelope:
        return registry.envelope(payload, source=SOURCE, subject=f"executions/{self.execution.id}", **self.attrs)

    async def run(
        self,
        *,
        only: Sequence[tuple[str, str]] | None = None,
        tasks: Sequence[Task] | None = None,
        resume: bool = False,
    ) -> Execution:
        """Discover and plan (or take ``tasks``, or with ``resume`` the execution's own pending tasks), copy."""
        ex = self.execution
        started = time.monotonic()
        beat = asyncio.create_task(self._beat()) if self.heartbeat else None
        try:
            async with self.clients(self.source) as src, self.clients(self.destination) as dst:
                try:
                    await src.ping()
                    await dst.ping()
                    if tasks is not None:
                        ex.tasks = [
                            t.model_copy(update={"status": "pending", "error": None, "bytes": 0, "duration": 0.0})
                            for t in tasks
                        ]
                    elif not resume:
                        ex.tasks = await self._discover(src, dst, only)
                except RegistryError as e:
                    ex.finish(now(), error=str(e))
                    await self._write(final=True, seconds=time.monotonic() - started)
                    return ex
                if not resume:
                    await self._write(started=True)
                await self._copy_all(src, dst)
            ex.finish(now())
            await self._write(final=True, seconds=time.monotonic() - started)
            return ex
        finally:
            if beat is not None:
                beat.cancel()

    async def _beat(self, every: float = 10.0) -> None:
        """Tell the bus the command is still being worked on, even while one huge blob streams."""
        assert self.heartbeat is not None
        while True:
            await asyncio.sleep(every)
            try:
                await self.heartbeat()
            except Exception:
                log.warning("heartbeat failed", exc_info=True)

    async def _discover(
        self, src: RegistryClient, dst: RegistryClient, only: Sequence[tuple[str, str]] | None
    ) -> list[Task]:
        p = self.policy
        if only is not None:
            source: dict[str, list[str]] = {}
            for repo, tag in only:
                source.setdefault(repo, []).append(tag)
            return plan(p, source, only=only)
        repos = [r for r in await src.catalog() if p.wants_repository(r)]
        source = dict(zip(repos, await asyncio.gather(*(src.list_tags(r) for r in repos)), strict=True))
        destination: dict[str, list[str]] | None = None
        if p.delete:
            dst_repos = [p.destination_repository(r) for r in repos]
            destination = dict(
                zip(dst_repos, await asyncio.gather(*(dst.list_tags(r) for r in dst_repos)), strict=True)
            )
        return plan(p, source, destination)

    async def _copy_all(self, src: RegistryClient, dst: RegistryClient) -> None:
        p = self.policy
        bucket = policy_bucket(p)
        copier = Copier(
            src,
            dst,
            CopyOptions(
                override=p.override,
                referrers=p.referrers,
                dry_run=self.execution.dry_run,
                blob_concurrency=max(4, p.concurrency),
                bucket=bucket,
            ),
        )
        slots = asyncio.Semaphore(p.concurrency)

        async def one(task: Task) -> None:
            async with slots:
                if task.action == "copy":
                    copy = copier.copy_referrers_tag if referrers_tag(task.tag) else copier.copy_tag
                    r = await copy(task.repository, task.tag, task.destination)
                    task.status, task.digest, task.bytes = r.status, r.digest, r.bytes
                    task.duration, task.error = round(r.duration, 4), r.error
                else:
                    await self._delete(dst, task)
                self._done.append(task)
                if time.monotonic() - self._last_flush >= self.flush_every:
                    await self._write()

        pending = [t for t in self.execution.tasks if t.status == "pending"]
        # copies first: a delete must see which manifests the kept tags point at once they are in place
        await asyncio.gather(*(one(t) for t in pending if t.action == "copy" and not referrers_tag(t.tag)))
        await asyncio.gather(*(one(t) for t in pending if t.action == "copy" and referrers_tag(t.tag)))
        await asyncio.gather(*(one(t) for t in pending if t.action == "delete"))

    async def _delete(self, dst: RegistryClient, task: Task) -> None:
        began = time.monotonic()
        try:
            head = await dst.head_manifest(task.destination, task.tag)
            task.digest = head.digest if head else None
            if head is None:
                task.status = "skipped"
            elif head.digest in await self._kept_digests(dst, task.destination):
                # distribution deletes manifests, not tags: deleting would take the kept tags with it
                task.status = "skipped"
                task.error = "shares its manifest with a tag that is kept; not deleted"
            elif self.execution.dry_run:
                task.status = "would-delete"
            else:
                await dst.delete_manifest(task.destination, head.digest)
                task.status = "deleted"
        except RegistryError as e:
            task.status, task.error = "failed", str(e)
        task.duration = round(time.monotonic() - began, 4)

    async def _kept_digests(self, dst: RegistryClient, repo: str) -> set[str]:
        cached = self._kept.get(repo)
        if cached is None:
            doomed = {t.tag for t in self.execution.tasks if t.action == "delete" and t.destination == repo}
            tags = [t for t in await dst.list_tags(repo) if t not in doomed]
            heads = await asyncio.gather(*(dst.head_manifest(repo, t) for t in tags))
            cached = self._kept[repo] = {h.digest for h in heads if h is not None}
        return cached

    async def _write(self, *, started: bool = False, final: bool = False, seconds: float = 0.0) -> None:
        async with self._lock:
            ex = self.execution
            done, self._done = self._done, []
            self._last_flush = time.monotonic()
            events = [
                self._env(
                    ArtifactCopied(
                        tenant=ex.tenant,
                        execution=ex.id,
                        policy=ex.policy,
                        repository=t.repository,
                        destination=t.destination,
                        tag=t.tag,
                        action=t.action,
                        status=t.status,
                        digest=t.digest,
                        bytes=t.bytes,
                        duration=t.duration,
                        error=t.error,
                    )
                )
                for t in done
            ]
            counts = ex.counts()
            if started:
                events.insert(
                    0,
                    self._env(
                        ExecutionStarted(
                            tenant=ex.tenant,
                            execution=ex.id,
                            policy=ex.policy,
                            trigger=ex.trigger,
                            dry_run=ex.dry_run,
                            tasks=len(ex.tasks),
                        )
                    ),
                )
            elif final:
                fact = (
                    ExecutionSucceeded(
                        tenant=ex.tenant,
                        execution=ex.id,
                        policy=ex.policy,
                        counts=counts,
                        bytes=ex.bytes,
                        seconds=round(seconds, 3),
                    )
                    if ex.status == "succeeded"
                    else ExecutionFailed(
                        tenant=ex.tenant,
                        execution=ex.id,
                        policy=ex.policy,
                        counts=counts,
                        bytes=ex.bytes,
                        seconds=round(seconds, 3),
                        error=ex.error,
                    )
                )
                events.append(self._env(fact))
            elif done:
                finished = sum(1 for t in ex.tasks if t.status != "pending")
                events.append(
                    self._env(
                        ExecutionProgress(
                            tenant=ex.tenant,
                            execution=ex.id,
                            policy=ex.policy,
                            done=finished,
                            total=len(ex.tasks),
                            failed=counts.get("failed", 0),
                            bytes=ex.bytes,
                        )
                    )
                )
            snapshot = ex.model_dump(mode="json")
            await update(
                self.store.collection(EXECUTIONS),
                ex.id,
                lambda _d: snapshot,
                caused_by=None,
                events_for=lambda _b, _a: events,
                initial=snapshot,
            )
            if self.wake:
                self.wake()
            if done and self.on_tasks:
                await self.on_tasks(ex, done)
            if self.heartbeat:
                await self.heartbeat()
