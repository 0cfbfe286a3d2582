"""Every route the gateway serves has a `berth` command (or is on the short list below, with the
reason). The CLI's commands say which routes they send: the table-driven ones from catalog/, the
hand-written ones in berth.commands.handwritten (tests/cli checks they really send them)."""

from __future__ import annotations

import re

from berth_common.store import MemoryStore
from berth_gateway.context import Gateway
from berth_gateway.http import build_app
from berth_gateway.settings import GatewaySettings

from berth.cli import build_parser
from berth.commands.tree import leaves

# (method, path) -> why no command sends it
EXEMPT: dict[tuple[str, str], str] = {
    ("GET", "/"): "the console's page",
    ("GET", "/static"): "the console's files",
    ("GET", "/openapi.json"): "the API document, for tools (curl it)",
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/api/v1/events"): "a server-sent event stream for the console; operations are followed by polling",
    ("POST", "/hooks/alertmanager"): "Alertmanager's webhook, called by Alertmanager with the hooks token",
    ("POST", "/hooks/registry"): "registries' webhooks, called by the registry with the hooks token",
    ("POST", "/hooks/chatops/dingtalk"): "DingTalk's signed callback",
    ("POST", "/hooks/chatops/feishu"): "Feishu's signed callback",
    ("POST", "/hooks/chatops/slack"): "Slack's signed callback",
    ("POST", "/hooks/twilio/call"): "Twilio's signed voice callback",
}


def _shape(path: str) -> str:
    return re.sub(r"{[^}]+}", "{}", path)


def gateway_routes() -> set[tuple[str, str]]:
    gateway = Gateway.build(backend=None, store=MemoryStore(), settings=GatewaySettings())  # type: ignore[arg-type]
    app = build_app(gateway, track_operations=False)
    out = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS") or route.resource is None:
            continue
        out.add((route.method, route.resource.canonical))
    return out


def cli_routes() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for words, leaf in leaves(build_parser()):
        for method, path in leaf.get_default("routes") or ():
            out.setdefault((method, _shape(path)), []).append(" ".join(words))
    return out


def test_every_gateway_route_has_a_cli_command() -> None:
    served = gateway_routes()
    assert len(served) > 100  # the whole app, hooks and local routes included
    have = cli_routes()
    missing = sorted(
        f"{method} {path}"
        for method, path in served
        if (method, _shape(path)) not in have and (method, path) not in EXEMPT
    )
    assert not missing, "routes without a berth command (add them to src/berth/commands/catalog/):\n" + "\n".join(
        missing
    )


def test_exemptions_are_still_routes_and_cli_routes_exist() -> None:
    served = gateway_routes()
    assert not set(EXEMPT) - served, f"exempt but no longer served: {set(EXEMPT) - served}"
    shapes = {(m, _shape(p)) for m, p in served}
    stale = {route: cmds for route, cmds in cli_routes().items() if route not in shapes}
    assert not stale, f"commands calling routes the gateway does not serve: {stale}"


def test_every_command_has_help_examples() -> None:
    bare = [" ".join(words) for words, leaf in leaves(build_parser()) if "examples:" not in (leaf.epilog or "")]
    assert not bare, f"commands without --help examples: {bare}"
