"""The registry-sync service object: its subjects, collections, handlers and queries are declared on it."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from .state import COLLECTIONS

app = ServiceApp("registry-sync", owns=["berth.cmd.registry-sync.>", "berth.evt.registry.>"], collections=COLLECTIONS)
