"""The cluster-manager service object: its subjects, collections, handlers and queries are declared on it."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from .state import COLLECTIONS

app = ServiceApp(
    "cluster-manager", owns=["berth.cmd.cluster-manager.>", "berth.evt.cluster.>"], collections=COLLECTIONS
)
