"""Executions: one run of a policy, with one task per artifact (tag) it copied, skipped or deleted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from berth_schema.registry.policies import PolicySpec
from berth_schema.registry.queries import ExecStatus, ExecutionDetail, ExecutionSummary, ExecutionTask, Trigger
from pydantic import BaseModel, ConfigDict, Field

DONE_OK = frozenset({"copied", "skipped", "exists", "would-copy", "deleted", "would-delete"})


class Task(ExecutionTask):
    """A task as the runner keeps it (the fields are the execution reply's task rows)."""

    model_config = ConfigDict(extra="ignore")

    @property
    def key(self) -> str:
        return f"{self.action}:{self.repository}:{self.tag}"


class Execution(BaseModel):
    id: str
    tenant: str
    policy: str
    trigger: Trigger
    dry_run: bool = False
    status: ExecStatus = "running"
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    retry_of: str | None = None
    tasks: list[Task] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter(t.status for t in self.tasks)
        return {"total": len(self.tasks), **{k: c[k] for k in sorted(c)}}

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tasks)

    def finish(self, now: datetime, *, error: str | None = None) -> None:
        self.finished_at = now
        self.error = error
        failed = error is not None or any(t.status in ("failed", "pending") for t in self.tasks)
        self.status = "failed" if failed else "succeeded"

    def failures(self) -> list[Task]:
        return [t for t in self.tasks if t.status in ("failed", "pending")]

    def summary(self) -> ExecutionSummary:
        return ExecutionSummary(**self.model_dump(exclude={"tasks"}), counts=self.counts(), bytes=self.bytes)

    def detail(self) -> ExecutionDetail:
        return ExecutionDetail(
            **self.summary().model_dump(), tasks=[ExecutionTask.model_validate(t.model_dump()) for t in self.tasks]
        )


def plan(
    policy: PolicySpec,
    source: Mapping[str, Sequence[str]],
    destination: Mapping[str, Sequence[str]] | None = None,
    *,
    only: Iterable[tuple[str, str]] | None = None,
) -> list[Task]:
    """Tasks for ``source`` (repository -> tags) after the policy's filters; deletions for tags the
    destination has and the source lost, only when the policy opts in. ``only`` narrows to (repo, tag)
    pairs (a webhook push)."""
    wanted = set(only) if only is not None else None
    tasks: list[Task] = []
    for repo in sorted(source):
        if not policy.wants_repository(repo):
            continue
        dst_repo = policy.destination_repository(repo)
        tags = [t for t in source[repo] if policy.wants_tag(t) and not referrers_tag(t)]
        for tag in sorted(tags):
            if wanted is None or (repo, tag) in wanted:
                tasks.append(Task(repository=repo, destination=dst_repo, tag=tag))
        if policy.referrers and wanted is None:
            # referrers listings follow their subject, whatever the tag filters say
            tasks += [
                Task(repository=repo, destination=dst_repo, tag=t) for t in sorted(source[repo]) if referrers_tag(t)
            ]
        if policy.delete and destination is not None and wanted is None:
            gone = set(destination.get(dst_repo, ())) - set(source[repo])
            for tag in sorted(gone):
                if policy.wants_tag(tag) and not referrers_tag(tag):
                    tasks.append(Task(repository=repo, destination=dst_repo, tag=tag, action="delete"))
    return tasks


def referrers_tag(tag: str) -> bool:
    """``sha256-<64 hex>``: a referrers listing, copied with its subject, not as a tag of its own."""
    return tag.startswith("sha256-") and len(tag) == 71
