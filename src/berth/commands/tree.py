"""Walking the argparse tree: the leaf commands (for completion, examples and the route contract)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator


def subactions(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Sub-commands by name, each once (aliases left out)."""
    sub = subactions(parser)
    if sub is None:
        return {}
    seen: set[int] = set()
    out = {}
    for name, child in sub.choices.items():
        if id(child) not in seen:
            seen.add(id(child))
            out[name] = child
    return out


def leaves(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    kids = children(parser)
    if not kids:
        yield prefix, parser
        return
    for name, child in kids.items():
        yield from leaves(child, (*prefix, name))


def options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings]
