"""Repository and tag filters: glob, regex, semver range; include and exclude."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Literal

import semver
from pydantic import BaseModel, ConfigDict, Field, model_validator

_COMPARATOR = re.compile(r"^(>=|<=|>|<|==|=|!=|\^|~)?\s*v?(\d+(?:\.\d+){0,2}(?:[-+][0-9A-Za-z.+-]*)?)$")


class Filter(BaseModel):
    """``on`` what (repository or tag), ``kind`` of pattern, and whether a match is ``include`` or ``exclude``.

    Semver ranges: comparators joined by spaces or commas (all must hold), alternatives by ``||``;
    ``^1.2`` and ``~1.2.3`` as npm means them. A tag that is not a version never matches a range.
    """

    model_config = ConfigDict(extra="forbid")

    on: Literal["repository", "tag"]
    kind: Literal["glob", "regex", "semver"] = "glob"
    pattern: str = Field(min_length=1, max_length=512)
    decision: Literal["include", "exclude"] = "include"

    @model_validator(mode="after")
    def _compiles(self) -> Filter:
        if self.kind == "regex":
            try:
                re.compile(self.pattern)
            except re.error as e:
                raise ValueError(f"pattern {self.pattern!r} is not a valid regex: {e}") from e
        elif self.kind == "semver":
            if self.on != "tag":
                raise ValueError("semver filters apply to tags only")
            _parse_range(self.pattern)
        return self

    def matches(self, value: str) -> bool:
        if self.kind == "glob":
            return fnmatch.fnmatchcase(value, self.pattern)
        if self.kind == "regex":
            return re.fullmatch(self.pattern, value) is not None
        version = parse_version(value)
        return version is not None and _in_range(version, _parse_range(self.pattern))


def parse_version(tag: str) -> semver.Version | None:
    text = tag[1:] if tag[:1] in ("v", "V") else tag
    try:
        return semver.Version.parse(text, optional_minor_and_patch=True)
    except (ValueError, TypeError):
        return None


def _parse_range(expr: str) -> list[list[tuple[str, semver.Version]]]:
    alternatives: list[list[tuple[str, semver.Version]]] = []
    for alt in expr.split("||"):
        parts = [p for p in re.split(r"[,\s]+", alt.strip()) if p]
        merged: list[str] = []
        for p in parts:  # allow ">= 1.0" as well as ">=1.0"
            if merged and merged[-1] in (">=", "<=", ">", "<", "==", "=", "!=", "^", "~"):
                merged[-1] += p
            else:
                merged.append(p)
        if not merged:
            raise ValueError(f"semver range {expr!r} has an empty alternative")
        comparators: list[tuple[str, semver.Version]] = []
        for p in merged:
            m = _COMPARATOR.match(p)
            if not m:
                raise ValueError(f"semver range {expr!r}: {p!r} is not a comparator like >=1.2.0, ^1.2 or ~1.2.3")
            op, text = m.group(1) or "=", m.group(2)
            v = semver.Version.parse(text, optional_minor_and_patch=True)
            given = text.split("-", 1)[0].split("+", 1)[0].count(".") + 1
            if op == "^":
                upper = v.bump_major() if v.major else (v.bump_minor() if v.minor or given < 3 else v.bump_patch())
                comparators += [(">=", v), ("<", upper)]
            elif op == "~":
                upper = v.bump_minor() if given >= 2 else v.bump_major()
                comparators += [(">=", v), ("<", upper)]
            else:
                comparators.append(("==" if op == "=" else op, v))
        alternatives.append(comparators)
    return alternatives


def _in_range(version: semver.Version, rng: list[list[tuple[str, semver.Version]]]) -> bool:
    ops = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    return any(all(ops[op](version, bound) for op, bound in alt) for alt in rng)


def selected(value: str, filters: Sequence[Filter], *, on: Literal["repository", "tag"]) -> bool:
    """Included by any include filter (or there are none) and excluded by no exclude filter."""
    mine = [f for f in filters if f.on == on]
    includes = [f for f in mine if f.decision == "include"]
    if includes and not any(f.matches(value) for f in includes):
        return False
    return not any(f.matches(value) for f in mine if f.decision == "exclude")
