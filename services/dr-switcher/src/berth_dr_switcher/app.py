"""The dr-switcher service object: its subjects, collections, handlers and queries are declared on it."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from .state import COLLECTIONS

app = ServiceApp("dr-switcher", owns=["berth.cmd.dr-switcher.>", "berth.evt.dr.>"], collections=COLLECTIONS)
