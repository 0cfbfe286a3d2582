"""Least privilege on the bus, derived from ``wiring``: what each service may publish and
subscribe to on NATS, and the nats-server ``authorization`` block that enforces it.

A service may publish its own facts, the commands it is declared to send, its own dead letters
and the queries it is declared to ask; it may answer only its own queries; and it may create
JetStream consumers only on the subjects it consumes. The gateway sends every command and asks
every query (it is what people reach), and follows facts and dead letters for its SSE feed and
operations. ``berth up``, the chart and the tests render the server config with
``nats_authorization`` from per-service passwords they generate.

Not enforceable with subject permissions alone: pulling from (or acking on) another service's
durable consumer by name, because consumer names are one token and NATS wildcards cannot match a
prefix inside a token. Consumer creation, where the filter subject is in the API subject, is bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from berth_common.events import registry

from . import wiring

STREAMS = ("BERTH_EVENTS", "BERTH_COMMANDS", "BERTH_DLQ")
# Every client: its own request replies and JetStream API answers arrive on inboxes.
_INBOXES = "_INBOX.>"
_JS_COMMON = (
    "$JS.API.INFO",
    *(f"$JS.API.STREAM.{verb}.{s}" for verb in ("INFO", "CREATE", "UPDATE") for s in STREAMS),
    "$JS.API.CONSUMER.INFO.*.*",
    "$JS.API.CONSUMER.MSG.NEXT.*.*",
    "$JS.ACK.>",
)


@dataclass(frozen=True, slots=True)
class BusPermissions:
    service: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    def as_nats(self) -> dict[str, Any]:
        """The ``permissions`` object of a nats-server user; replies to received requests are allowed."""
        return {
            "publish": {"allow": list(self.publish)},
            "subscribe": {"allow": list(self.subscribe)},
            "allow_responses": True,
        }


def _owned_domains(service: str) -> list[str]:
    return sorted(d for d, owner in wiring.DOMAIN_OWNERS.items() if owner == service)


def _consumed_subjects(service: str) -> list[str]:
    own = sorted(
        s.subject
        for s in registry
        if s.kind == "command"
        and s.model.__module__.startswith("berth_schema.")
        and wiring.owner_of_subject(s.subject) == service
    )
    return own + list(wiring.CONSUMES_FACTS.get(service, ()))


def for_service(service: str) -> BusPermissions:
    """What ``service`` may do on the bus."""
    if service == wiring.GATEWAY:
        return BusPermissions(
            service=service,
            publish=(
                "berth.cmd.>",
                "berth.api.>",
                *_JS_COMMON,
                "$JS.API.CONSUMER.CREATE.BERTH_EVENTS",
                "$JS.API.CONSUMER.CREATE.BERTH_EVENTS.>",
                "$JS.API.CONSUMER.CREATE.BERTH_DLQ",
                "$JS.API.CONSUMER.CREATE.BERTH_DLQ.>",
                "$JS.API.CONSUMER.DELETE.BERTH_EVENTS.*",
                "$JS.API.CONSUMER.DELETE.BERTH_DLQ.*",
                "$JS.FC.>",
            ),
            subscribe=(_INBOXES, "berth.api.gateway.>", "$SRV.>"),
        )
    if service not in wiring.SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(wiring.SERVICES)} or gateway")
    publish = [
        *(f"berth.evt.{d}.>" for d in _owned_domains(service)),
        *wiring.SENDS.get(service, ()),
        f"berth.dlq.{service}.>",
        *(f"berth.api.{name}" for name in wiring.ASKS.get(service, ())),
        *_JS_COMMON,
        *(f"$JS.API.CONSUMER.CREATE.{_stream_of(s)}.*.{s}" for s in _consumed_subjects(service)),
    ]
    return BusPermissions(
        service=service,
        publish=tuple(publish),
        subscribe=(_INBOXES, f"berth.api.{service}.>", "$SRV.>"),
    )


def _stream_of(subject: str) -> str:
    return "BERTH_EVENTS" if subject.startswith("berth.evt.") else "BERTH_COMMANDS"


def nats_authorization(passwords: Mapping[str, str], *, admin_password: str | None = None) -> dict[str, Any]:
    """The nats-server ``authorization`` block: one user per service (named after it) with its
    permissions, plus an optional unrestricted ``berth-admin`` user for operators and tests."""
    users: list[dict[str, Any]] = [
        {"user": service, "password": password, "permissions": for_service(service).as_nats()}
        for service, password in sorted(passwords.items())
    ]
    if admin_password is not None:
        users.append({"user": "berth-admin", "password": admin_password})
    return {"users": users}


ALL_IDENTITIES = (*wiring.SERVICES, wiring.GATEWAY)


def password_variable(identity: str) -> str:
    """The environment variable nats-server reads an identity's password from (chart and launcher)."""
    return "BERTH_NATS_PASSWORD_" + identity.upper().replace("-", "_")


def nats_authorization_conf() -> str:
    """The ``authorization`` block in nats-server's own config syntax, passwords as ``$VARIABLE``s
    that nats-server reads from its environment: what the chart mounts (deploy/helm/berth/files)."""
    lines = [
        "# Generated from libs/schema (berth_schema.bus_permissions) by scripts/gen-proto; do not edit.",
        "authorization {",
        "  users = [",
    ]
    for identity in ALL_IDENTITIES:
        perms = for_service(identity)
        lines += [
            "    {",
            f'      user: "{identity}"',
            f"      password: ${password_variable(identity)}",
            "      permissions: {",
            f"        publish: {{ allow: {_conf_list(perms.publish)} }}",
            f"        subscribe: {{ allow: {_conf_list(perms.subscribe)} }}",
            "        allow_responses: true",
            "      }",
            "    }",
        ]
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def _conf_list(subjects: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{s}"' for s in subjects) + "]"


def main() -> None:
    import sys
    from pathlib import Path

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/helm/berth/files/nats-authorization.conf")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(nats_authorization_conf())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()


def new_password() -> str:
    """A password nats-server reads back as a string from ``$VARIABLE``: letters and digits, led by
    a letter (a value like ``12345``, ``1e5`` or ``-x`` would parse as a number or fail)."""
    import secrets

    return "b" + secrets.token_hex(20)
