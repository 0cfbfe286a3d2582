"""Dependencies between DR groups: checking a group's ``depends_on`` against the tenant's other
groups (unknown names and cycles are refused) and the order a linked set switches in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from berth_schema.dr.spec import GroupSpec


class DependencyError(ValueError):
    """A group's ``depends_on`` names a missing group or closes a cycle; the message names the field."""


def check_dependencies(spec: GroupSpec, others: Mapping[str, GroupSpec], *, tenant: str) -> None:
    """``others``: the tenant's groups by name (``spec``'s own stored version is ignored)."""
    known = {name: s for name, s in others.items() if name != spec.name}
    unknown = [d for d in spec.depends_on if d not in known]
    if unknown:
        raise DependencyError(f"spec.depends_on: no DR group {', '.join(unknown)} in tenant {tenant}")
    graph = {name: list(s.depends_on) for name, s in known.items()}
    graph[spec.name] = list(spec.depends_on)
    cycle = find_cycle(graph)
    if cycle:
        raise DependencyError(f"spec.depends_on: a dependency cycle {' -> '.join(cycle)}")


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """A cycle of ``graph`` (name -> names it depends on) as a path that ends where it starts, or []."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        colour[node] = grey
        stack.append(node)
        for dep in graph.get(node, ()):
            if dep not in colour:
                continue
            if colour[dep] == grey:
                return [*stack[stack.index(dep) :], dep]
            if colour[dep] == white:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        colour[node] = black
        return []

    for node in sorted(graph):
        if colour[node] == white:
            found = visit(node)
            if found:
                return found
    return []


def switch_order(root: str, specs: Mapping[str, GroupSpec]) -> tuple[list[str], list[str]]:
    """The groups a switch of ``root`` moves, in order, and the linked names that do not exist.

    The set is ``root`` plus everything reachable through ``depends_on`` and ``linked_groups``;
    a group comes after everything it depends on (a database before the services using it);
    otherwise groups keep the order they were reached in from ``root`` (linked followers after
    the group they follow). Raises DependencyError on a cycle."""
    seen: list[str] = []
    missing: list[str] = []
    queue = [root]
    while queue:
        name = queue.pop(0)
        if name in seen or name in missing:
            continue
        spec = specs.get(name)
        if spec is None:
            missing.append(name)
            continue
        seen.append(name)
        queue.extend([*spec.depends_on, *spec.linked_groups])
    rank = {name: i for i, name in enumerate(seen)}
    needs = {name: [d for d in specs[name].depends_on if d in rank] for name in seen}
    cycle = find_cycle(needs)
    if cycle:
        raise DependencyError(f"depends_on: a dependency cycle {' -> '.join(cycle)}")
    leaders = {name: [n for n in seen if name in specs[n].linked_groups] for name in seen}
    order: list[str] = []
    while len(order) < len(seen):
        ready = [n for n in seen if n not in order and all(d in order for d in needs[n])]
        # a follower waits for the group it follows, unless dependencies say otherwise
        led = [n for n in ready if all(lead in order for lead in leaders[n])]
        order.append(min(led or ready, key=rank.__getitem__))
    return order, missing
