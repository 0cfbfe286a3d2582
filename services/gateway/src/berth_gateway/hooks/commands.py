"""Chat commands and the API calls they map to.

    ack <alert>                      POST /api/v1/alerts/<alert>:ack
    silence <k=v>... [for <N>m]      POST /api/v1/silences
    dr switch <group>                POST /api/v1/dr-groups/<group>:switchover
    release promote|rollback <name>  POST /api/v1/releases/<name>:promote|:rollback
    cluster status <name>            GET  /api/v1/clusters/<name>
Any command may end with ``-t <tenant>`` when the user belongs to several tenants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
HELP = (
    "commands: ack <alert> | silence <label=value>... [for <minutes>m] | dr switch <group> | "
    "release promote <release> | release rollback <release> | cluster status <cluster>"
)


class ChatCommandError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    path: str
    body: dict[str, Any] | None
    tenant: str | None
    summary: str


def _name(value: str, what: str) -> str:
    if not NAME.match(value) or len(value) > 128:
        raise ChatCommandError(f"{what} {value!r} is not a valid name")
    return value


def parse(text: str) -> ApiCall:
    words = text.strip().split()
    # chat apps prefix mentions (@Berth) — drop them
    words = [w for w in words if not w.startswith("@")]
    tenant = None
    if "-t" in words:
        i = words.index("-t")
        if i + 1 >= len(words):
            raise ChatCommandError("-t needs a tenant name")
        tenant = _name(words[i + 1], "tenant")
        words = words[:i] + words[i + 2 :]
    if not words:
        raise ChatCommandError(HELP)
    verb, args = words[0].lower(), words[1:]
    if verb == "ack" and len(args) == 1:
        return ApiCall(
            "POST",
            f"/api/v1/alerts/{_name(args[0], 'alert')}:ack",
            {"comment": "via chat"},
            tenant,
            f"acknowledged alert {args[0]}",
        )
    if verb == "silence" and args:
        minutes = 60
        if len(args) >= 2 and args[-2] == "for":
            m = re.fullmatch(r"(\d+)m?", args[-1])
            if not m:
                raise ChatCommandError(f"duration {args[-1]!r} must be minutes, like 30m")
            minutes, args = int(m.group(1)), args[:-2]
        matchers = []
        for a in args:
            if "=" not in a:
                raise ChatCommandError(f"matcher {a!r} must look like label=value")
            matchers.append(a)
        return ApiCall(
            "POST",
            "/api/v1/silences",
            {"matchers": matchers, "duration_minutes": minutes, "comment": "via chat"},
            tenant,
            f"silenced {' '.join(matchers)} for {minutes}m",
        )
    if verb == "dr" and len(args) == 2 and args[0] == "switch":
        return ApiCall(
            "POST",
            f"/api/v1/dr-groups/{_name(args[1], 'group')}:switchover",
            {"reason": "via chat"},
            tenant,
            f"DR switchover of {args[1]} started",
        )
    if verb == "release" and len(args) == 2 and args[0] in ("promote", "rollback"):
        return ApiCall(
            "POST",
            f"/api/v1/releases/{_name(args[1], 'release')}:{args[0]}",
            None,
            tenant,
            f"release {args[1]}: {args[0]} started",
        )
    if verb == "cluster" and len(args) == 2 and args[0] == "status":
        return ApiCall("GET", f"/api/v1/clusters/{_name(args[1], 'cluster')}", None, tenant, f"cluster {args[1]}")
    raise ChatCommandError(HELP)
