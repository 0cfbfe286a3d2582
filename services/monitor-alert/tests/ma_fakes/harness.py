"""Test harness: a fake clock, the running service's handle, payload builders, polling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from berth_common.events import Envelope
from berth_monitor_alert.app import app
from berth_monitor_alert.config import Clock
from pydantic import BaseModel


class FakeClock(Clock):
    """Real time plus an offset the test moves forward (signatures stay within the hour)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return super().monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Service:
    webhook_url: str
    clock: FakeClock
    call_hook_url: str = ""
    facts: list[Envelope] = field(default_factory=list)
    commands: list[Envelope] = field(default_factory=list)

    async def send(self, payload: BaseModel, *, tenant: str) -> Envelope:
        return await app.bus.emit(payload, tenant=tenant)

    async def query(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        return await app.bus.request("monitor-alert", op, body, timeout=5)

    def facts_of(self, type_: str, tenant: str) -> list[Envelope]:
        return [f for f in self.facts if f.type == type_ and f.tenant == tenant]


async def eventually(check: Callable[[], Any], *, within: float = 10.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or check}")
        await asyncio.sleep(0.05)


def alert_payload(
    *,
    name: str = "TestAlert",
    fingerprint: str = "f00d",
    status: str = "firing",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    starts_at: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    lab = {"alertname": name, "severity": "critical", "cluster": "c1", **(labels or {})}
    ann = annotations or {"summary": f"{name} is firing"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "berth",
        "groupLabels": {"alertname": name},
        "commonLabels": lab,
        "commonAnnotations": ann,
        "externalURL": "http://alertmanager.local",
        "alerts": [
            {
                "status": status,
                "labels": lab,
                "annotations": ann,
                "startsAt": starts_at,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.local/graph",
                "fingerprint": fingerprint,
            }
        ],
    }
