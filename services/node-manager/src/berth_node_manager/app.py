"""The node-manager service object: its subjects, collections, handlers and queries are declared on it."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from .state import COLLECTIONS

app = ServiceApp("node-manager", owns=["berth.cmd.node-manager.>", "berth.evt.node.>"], collections=COLLECTIONS)
