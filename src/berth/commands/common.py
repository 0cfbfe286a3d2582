"""What every API subcommand shares: global options, the client, output, error reporting."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from .. import config
from ..client import ApiProblem, Client
from ..output import Progress, emit

Run = Callable[[argparse.Namespace, Client], int]


def api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    parser.add_argument("--server", help="gateway URL (default: the saved login, $BERTH_SERVER)")
    parser.add_argument("--tenant", help="tenant to act in (default: the saved one, $BERTH_TENANT)")


def client_for(args: argparse.Namespace) -> Client:
    cfg = config.load()
    server = args.server or os.environ.get("BERTH_SERVER") or cfg.server
    token = os.environ.get("BERTH_TOKEN") or cfg.token
    if not server:
        raise ApiProblem(0, "not logged in: run `berth login --server URL` first")
    tenant = args.tenant or os.environ.get("BERTH_TENANT") or cfg.tenant
    ca_file = os.environ.get("BERTH_CA_FILE") or cfg.ca_file
    return Client(server=server, token=token, tenant=tenant, ca_file=ca_file)


def command(fn: Run) -> Callable[[argparse.Namespace], int]:
    """Wrap a subcommand: build the client, print problem+json errors clearly, exit non-zero."""

    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args, client_for(args))
        except ApiProblem as exc:
            print(exc.render(), file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return run


def show(args: argparse.Namespace, data: Any, columns: list[str]) -> int:
    emit(data, fmt=args.output, columns=columns)
    return 0


def accepted(args: argparse.Namespace, client: Client, reply: dict[str, Any], label: str) -> int:
    """A 202 answer: wait with a progress bar (unless --no-wait), then print the operation."""
    op = reply["operation"]
    if getattr(args, "no_wait", False):
        return show(args, op, ["id", "kind", "target", "state"])
    progress = Progress(label)
    op = client.wait(op, timeout=args.timeout, on_update=progress.update)
    if op["state"] == "failed":
        print(f"error: {label} failed: {op['message']}", file=sys.stderr)
        return 1
    return show(args, op, ["id", "kind", "target", "state", "message"])


def wait_options(parser: argparse.ArgumentParser, *, timeout: float = 900.0) -> None:
    parser.add_argument("--no-wait", action="store_true", help="print the operation and return at once")
    parser.add_argument("--timeout", type=float, default=timeout, help="seconds to wait for the operation")
