"""Routing: the channels an alert goes to (the ``Route`` model is in ``berth_schema.alert.routing``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from berth_schema.alert.matchers import all_match
from berth_schema.alert.routing import Route


def matching(routes: Iterable[Route], labels: Mapping[str, str]) -> list[Route]:
    """The routes an alert takes, in route order (the first match unless it says continue)."""
    found: list[Route] = []
    for r in sorted(routes, key=lambda r: (r.order, r.name)):
        if all_match(r.matchers, labels):
            found.append(r)
            if not r.continue_:
                break
    return found


def route(routes: Iterable[Route], labels: Mapping[str, str]) -> list[str]:
    """Channel names for an alert, in route order, without duplicates."""
    chosen: list[str] = []
    for r in matching(routes, labels):
        chosen.extend(c for c in r.channels if c not in chosen)
    return chosen
