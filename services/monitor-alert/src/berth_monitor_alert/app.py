"""The monitor-alert service object: its subjects, collections, handlers and queries are declared on it."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from .state import COLLECTIONS

app = ServiceApp("monitor-alert", owns=["berth.cmd.monitor-alert.>", "berth.evt.alert.>"], collections=COLLECTIONS)
