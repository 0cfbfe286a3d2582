"""Parsing of ``WWW-Authenticate`` challenges (RFC 7235) as registries send them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer" or "basic"
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value into its challenges, in order.

    Handles quoted strings with escapes and commas inside quotes, e.g.
    ``Bearer realm="https://a/token",service="reg",scope="repository:x:pull,push"``.
    """
    out: list[Challenge] = []
    pos, n = 0, len(header)
    current: Challenge | None = None
    while pos < n:
        while pos < n and header[pos] in " \t,":
            pos += 1
        if pos >= n:
            break
        m = _TOKEN.match(header, pos)
        if not m:
            raise ValueError(f"malformed WWW-Authenticate header at offset {pos}: {header!r}")
        word, pos = m.group(0), m.end()
        after = pos
        while after < n and header[after] in " \t":
            after += 1
        if after < n and header[after] == "=":
            if current is None:
                raise ValueError(f"WWW-Authenticate parameter {word!r} before any scheme: {header!r}")
            pos = after + 1
            while pos < n and header[pos] in " \t":
                pos += 1
            value, pos = _value(header, pos)
            current.params[word.lower()] = value
        else:
            current = Challenge(word.lower(), {})
            out.append(current)
    return out


def _value(header: str, pos: int) -> tuple[str, int]:
    n = len(header)
    if pos < n and header[pos] == '"':
        pos += 1
        chars: list[str] = []
        while pos < n and header[pos] != '"':
            if header[pos] == "\\" and pos + 1 < n:
                pos += 1
            chars.append(header[pos])
            pos += 1
        if pos >= n:
            raise ValueError(f"unterminated quoted string in WWW-Authenticate: {header!r}")
        return "".join(chars), pos + 1
    # unquoted: strictly a token, but registries send URLs unquoted too; read up to , or space
    end = pos
    while end < n and header[end] not in ", \t":
        end += 1
    if end == pos:
        raise ValueError(f"malformed WWW-Authenticate value at offset {pos}: {header!r}")
    return header[pos:end], end
