"""berth namespace list | get | create | delete | quota  (--cluster C)."""

from __future__ import annotations

import argparse
import sys

from ..client import Client
from .common import accepted, api_options, command, show, wait_options

COLUMNS = ["name", "status", "description", "isolated", "created_at"]


def _base(args: argparse.Namespace) -> str:
    return f"/api/v1/clusters/{args.cluster}/namespaces"


@command
def list_(args: argparse.Namespace, client: Client) -> int:
    show(args, list(client.list_all(_base(args))), COLUMNS)
    remaining = client.first_page.get("remaining")
    if remaining is not None and args.output == "table":
        print(f"{remaining} more namespaces can be created in cluster {args.cluster}", file=sys.stderr)
    return 0


@command
def get(args: argparse.Namespace, client: Client) -> int:
    return show(args, client.get(f"{_base(args)}/{args.name}"), [*COLUMNS, "quota"])


@command
def create(args: argparse.Namespace, client: Client) -> int:
    # the API's NamespaceCreate fields (extra fields are a 422)
    body: dict[str, object] = {"name": args.name, "description": args.description or "", "isolated": args.isolated}
    return accepted(args, client, client.request("POST", _base(args), body, idempotent=True), f"create {args.name}")


@command
def delete(args: argparse.Namespace, client: Client) -> int:
    return accepted(args, client, client.request("DELETE", f"{_base(args)}/{args.name}"), f"delete {args.name}")


@command
def quota(args: argparse.Namespace, client: Client) -> int:
    hard: dict[str, str] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"error: --set {item!r} must look like requests.cpu=4", file=sys.stderr)
            return 2
        hard[key] = value
    reply = client.request("PUT", f"{_base(args)}/{args.name}/quota", {"quota": hard})
    return accepted(args, client, reply, f"quota {args.name}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ns = sub.add_parser("namespace", aliases=["ns"], help="namespaces of a cluster")
    verbs = ns.add_subparsers(dest="verb", required=True)
    specs = [
        ("list", list_, False),
        ("get", get, True),
        ("create", create, True),
        ("delete", delete, True),
        ("quota", quota, True),
    ]
    for verb, fn, named in specs:
        p = verbs.add_parser(verb, help=f"{verb} namespaces")
        if named:
            p.add_argument("name")
        p.add_argument("--cluster", "-c", required=True)
        if verb == "create":
            p.add_argument("--description")
            p.add_argument("--isolated", action="store_true", help="network isolation on")
        if verb == "quota":
            p.add_argument("--set", action="append", default=[], required=True, help="resource=quantity")
        api_options(p)
        if verb in ("create", "delete", "quota"):
            wait_options(p, timeout=300)
        p.set_defaults(func=fn)
