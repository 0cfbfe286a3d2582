"""The release-orchestrator service object: its subjects, collections, handlers and queries are declared on it."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from .state import COLLECTIONS

app = ServiceApp(
    "release-orchestrator",
    owns=["berth.cmd.release-orchestrator.>", "berth.evt.release.>"],
    collections=[c for c in COLLECTIONS if c != "leases"],
)
