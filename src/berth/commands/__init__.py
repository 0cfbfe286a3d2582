"""`berth` subcommands that talk to the gateway's HTTP API."""

from __future__ import annotations

import argparse

from . import auth, clusters, namespaces, nodes, pools


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for module in (auth, clusters, nodes, namespaces, pools):
        module.register(sub)
