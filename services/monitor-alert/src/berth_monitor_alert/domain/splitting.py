"""Split a message to a platform's size limit on line boundaries.

Lines are kept whole when they fit; a line longer than the limit is cut between characters
(never inside a UTF-8 sequence). Each part after the first may carry a continuation header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

Unit = Literal["bytes", "chars"]


def _measure(unit: Unit) -> Callable[[str], int]:
    if unit == "bytes":
        return lambda s: len(s.encode("utf-8"))
    return len


def _cut(line: str, limit: int, size: Callable[[str], int]) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for ch in line:
        n = size(ch)
        if used + n > limit and current:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += n
    if current:
        pieces.append("".join(current))
    return pieces


def split_message(text: str, limit: int, *, unit: Unit = "bytes", reserve: int = 0) -> list[str]:
    """Parts of ``text`` each at most ``limit - reserve`` long (``reserve`` leaves room for a
    header such as "(2/3)"). One part when it already fits."""
    if limit - reserve < 8:
        raise ValueError(f"limit {limit} minus reserve {reserve} leaves no room for text")
    size = _measure(unit)
    budget = limit - reserve
    if size(text) <= budget:
        return [text]
    parts: list[str] = []
    current = ""
    for raw in text.splitlines(keepends=True):
        for line in _cut(raw, budget, size) if size(raw) > budget else [raw]:
            if current and size(current) + size(line) > budget:
                parts.append(current)
                current = ""
            current += line
    if current:
        parts.append(current)
    return [p.rstrip("\n") or p for p in parts]


def numbered(parts: list[str]) -> list[str]:
    """Prefix "(i/n) " when a message had to be split."""
    if len(parts) == 1:
        return parts
    n = len(parts)
    return [f"({i}/{n}) {p}" for i, p in enumerate(parts, 1)]


NUMBER_RESERVE = 16  # room for "(999/999) "
