"""Rendering results as a table, JSON or YAML (-o)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import yaml


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _lookup(item: dict[str, Any], column: str) -> Any:
    value: Any = item
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def table(items: Sequence[dict[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    rows = [[c.split(".")[-1].upper() for c in columns]] + [[_cell(_lookup(i, c)) for c in columns] for i in items]
    widths = [max(len(r[i]) for r in rows) for i in range(len(columns))]
    for row in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def emit(data: Any, *, fmt: str, columns: Sequence[str] = (), out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    elif fmt == "yaml":
        out.write(yaml.safe_dump(data, sort_keys=True, allow_unicode=True))
    else:
        items = data if isinstance(data, list) else [data]
        cols = list(columns) or sorted({k for i in items for k in i})
        table(items, cols, out)


class Progress:
    """A one-line progress bar on stderr while an operation runs."""

    def __init__(self, label: str, *, out: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.out = out or sys.stderr
        self.width = width
        self.tty = self.out.isatty()
        self._last = ""
        self._steps = 0

    def update(self, op: dict[str, Any]) -> None:
        new = op.get("steps", [])[self._steps :]
        self._steps += len(new)
        for step in new:
            what = step.get("step") or step.get("name") or step.get("type", "")
            detail = step.get("message") or step.get("result") or step.get("reason") or ""
            self.out.write(("\r\033[K" if self.tty else "") + f"  - {what}" + (f": {detail}" if detail else "") + "\n")
        steps = self._steps
        done = op["state"] in ("succeeded", "failed")
        # the number of steps is not known ahead: approach the end, jump to it when done
        fraction = 1.0 if done else steps / (steps + 2)
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label} [{bar}] {op['state']}: {op.get('message', '')}"[:160]
        if line == self._last and not new:
            return
        self._last = line
        if self.tty:
            self.out.write("\r\033[K" + line + ("\n" if done else ""))
        else:
            self.out.write(line + "\n")
        self.out.flush()
