"""Dependency checks and the switch order of linked groups (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from berth_dr_switcher.domain.graph import DependencyError, check_dependencies, find_cycle, switch_order
from berth_schema.dr.spec import GroupSpec, parse_spec
from pydantic import ValidationError


def spec(name: str, *, depends_on: tuple[str, ...] = (), linked: tuple[str, ...] = ()) -> GroupSpec:
    raw: dict[str, Any] = {
        "name": name,
        "primary": {"name": "a", "dns_targets": ["10.0.0.1"], "probes": [{"kind": "tcp", "host": "a", "port": 1}]},
        "standby": {"name": "b", "dns_targets": ["10.0.1.1"], "probes": [{"kind": "tcp", "host": "b", "port": 1}]},
        "dns": {"zone": "example.org", "record": f"{name}.example.org"},
        "depends_on": list(depends_on),
        "linked_groups": list(linked),
    }
    return parse_spec(raw)


def test_order_is_dependencies_first_not_list_order() -> None:
    specs = {
        s.name: s
        for s in (
            spec("front", depends_on=("api",), linked=("mail",)),
            spec("api", depends_on=("cache", "db")),
            spec("cache", depends_on=("db",)),
            spec("db"),
            spec("mail"),
            spec("other"),
        )
    }
    assert switch_order("front", specs) == (["db", "cache", "api", "front", "mail"], [])
    assert switch_order("db", specs) == (["db"], [])  # dependents do not move with their dependency
    specs["front"] = spec("front", depends_on=("api",), linked=("gone",))
    assert switch_order("front", specs) == (["db", "cache", "api", "front"], ["gone"])


def test_unknown_dependencies_and_cycles_name_the_field() -> None:
    others = {"a": spec("a"), "b": spec("b", depends_on=("a",)), "c": spec("c", depends_on=("b",))}
    with pytest.raises(DependencyError, match=r"spec\.depends_on: no DR group x, y in tenant t"):
        check_dependencies(spec("d", depends_on=("x", "a", "y")), others, tenant="t")
    with pytest.raises(DependencyError, match=r"spec\.depends_on: a dependency cycle a -> c -> b -> a"):
        check_dependencies(spec("a", depends_on=("c",)), others, tenant="t")
    check_dependencies(spec("a"), others, tenant="t")  # the stored version of itself is replaced
    assert find_cycle({"x": ["y"], "y": []}) == []
    with pytest.raises(ValidationError, match="depends_on: a group cannot depend on itself"):
        spec("a", depends_on=("a",))
