"""Label matchers as Alertmanager writes them: ``name=value``, ``!=``, ``=~`` and ``!~``.

Regular expressions are anchored (a full match), like Alertmanager's. Routes, silences and
scaling policies carry them, as text or as ``{name, op, value}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Op = Literal["=", "!=", "=~", "!~"]
_TEXT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class Matcher(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    op: Op = "="
    value: str = ""

    @model_validator(mode="after")
    def _regex_compiles(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"matcher {self.name}{self.op}: bad regular expression: {exc}") from None
        return self

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return re.compile(self.value)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")  # a missing label is the empty string, as in Prometheus
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = self._regex.fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """``severity=~"critical|warning"`` (quotes optional)."""
        m = _TEXT.match(text)
        if m is None:
            raise ValueError(f"matcher {text!r}: expected name, one of = != =~ !~, and a value")
        name, op, value = m.groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        return cls(name=name, op=op, value=value)


def parse_text(v: object) -> object:
    """A list of matchers where some may be written as text (``severity="critical"``)."""
    if isinstance(v, list):
        return [Matcher.parse(m) if isinstance(m, str) else m for m in v]
    return v


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
