"""Every route must point at a command or query the schema defines: the gateway will not serve
an API whose routes lead nowhere (it used to answer 503 "does not offer op" at request time)."""

from __future__ import annotations

from collections.abc import Iterable

from berth_common.events import Registry

from .routes import ROUTES, Route


class RoutesOutsideSchema(RuntimeError):
    """Some routes name ops the schema does not define; the message lists them."""


def needed(route: Route) -> list[tuple[str, str]]:
    """(kind, op) the route asks of its service: the command or query it sends, and the queries
    it uses besides (a get served from a list asks only the list)."""
    kind = "command" if route.kind == "command" else "query"
    out = [] if route.via_list else [(kind, route.op)]
    return out + [("query", op) for op in (route.via_list, route.confirm, route.validate) if op]


def has_command(registry: Registry, service: str, verb: str) -> bool:
    subject = f"berth.cmd.{service}.{verb}"
    return any(spec.kind == "command" and spec.subject == subject for spec in registry)


def route_problems(registry: Registry, routes: Iterable[Route] = ROUTES) -> list[str]:
    """One line per op a route needs and the schema lacks (empty when every route is backed)."""
    problems: list[str] = []
    for route in routes:
        where = f"{route.method} {route.path}"
        for kind, op in needed(route):
            if kind == "command" and not has_command(registry, route.service, op):
                problems.append(f"{where}: no command berth.cmd.{route.service}.{op} in the schema")
            if kind == "query" and not registry.has_query(route.service, op):
                problems.append(f"{where}: no query {route.service}.{op} in the schema")
        if route.owner is not None and not registry.has_query(*route.owner):
            problems.append(f"{where}: no query {'.'.join(route.owner)} in the schema")
    return problems


def check_routes(registry: Registry, routes: Iterable[Route] = ROUTES) -> None:
    problems = route_problems(registry, routes)
    if problems:
        raise RoutesOutsideSchema(f"{len(problems)} route(s) point outside the schema: " + "; ".join(problems))
