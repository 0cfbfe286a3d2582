"""`berth` subcommands that talk to the gateway's HTTP API: the hand-written groups, then the
table of resources (catalog/) adding groups and verbs."""

from __future__ import annotations

import argparse

from . import auth, clusters, generic, namespaces, nodes, pools
from .catalog import RESOURCES
from .tree import subactions


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for module in (auth, clusters, nodes, namespaces, pools):
        module.register(sub)
    groups: generic.Groups = {}
    for name in ("cluster", "node", "namespace", "pool"):
        action = subactions(sub.choices[name])
        assert action is not None
        groups[name] = action
    generic.register(sub, groups, RESOURCES)
