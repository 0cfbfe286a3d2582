"""berth node list | get | cordon | uncordon | drain | join-token  (--cluster C), and berth node join."""

from __future__ import annotations

import argparse

from ..client import Client
from . import node_join
from .common import accepted, api_options, command, show, wait_options

# the seed's node table: name, status, pool, flavour, allocatable CPU and memory, private IP, zone, source
COLUMNS = [
    "name",
    "display_status",
    "pool",
    "flavour",
    "allocatable_cpu",
    "allocatable_memory_gib",
    "private_ip",
    "zone",
    "source",
]


@command
def list_(args: argparse.Namespace, client: Client) -> int:
    return show(args, list(client.list_all(f"/api/v1/clusters/{args.cluster}/nodes")), COLUMNS)


@command
def get(args: argparse.Namespace, client: Client) -> int:
    return show(args, client.get(f"/api/v1/clusters/{args.cluster}/nodes/{args.name}"), COLUMNS)


def _action(verb: str) -> object:
    @command
    def run(args: argparse.Namespace, client: Client) -> int:
        body = {"grace_seconds": args.grace, "force": args.force} if verb == "drain" else None
        reply = client.request("POST", f"/api/v1/clusters/{args.cluster}/nodes/{args.name}:{verb}", body)
        return accepted(args, client, reply, f"{verb} {args.name}")

    return run


@command
def join_token(args: argparse.Namespace, client: Client) -> int:
    reply = client.request(
        "POST", f"/api/v1/clusters/{args.cluster}/nodepools/{args.pool}:join-token", {"ttl_seconds": args.ttl}
    )
    if args.output != "table":
        return show(args, reply, [])
    print(f"# token {reply['token_id']} for pool {reply['pool']}, valid until {reply['expires']}")
    print("# run on each machine that should join:")
    print(reply["command"])
    return 0


@command
def join_tokens(args: argparse.Namespace, client: Client) -> int:
    items = list(client.list_all(f"/api/v1/clusters/{args.cluster}/join-tokens"))
    return show(args, items, ["token_id", "expires", "description"])


@command
def revoke_join_token(args: argparse.Namespace, client: Client) -> int:
    reply = client.request("DELETE", f"/api/v1/clusters/{args.cluster}/join-tokens/{args.token_id}")
    if args.output != "table":
        return show(args, reply, [])
    print(f"join token {args.token_id} revoked: machines can no longer join cluster {args.cluster} with it")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    node = sub.add_parser("node", help="nodes of a cluster").add_subparsers(dest="verb", required=True)
    for verb, fn in (("list", list_), ("get", get)):
        p = node.add_parser(verb, help=f"{verb} nodes")
        if verb == "get":
            p.add_argument("name")
        p.add_argument("--cluster", "-c", required=True)
        api_options(p)
        p.set_defaults(func=fn)
    for verb in ("cordon", "uncordon", "drain"):
        p = node.add_parser(verb, help=f"{verb} a node")
        p.add_argument("name")
        p.add_argument("--cluster", "-c", required=True)
        if verb == "drain":
            p.add_argument("--grace", type=int, default=30, help="pod termination grace seconds")
            p.add_argument("--force", action="store_true")
        api_options(p)
        wait_options(p, timeout=600)
        p.set_defaults(func=_action(verb))
    p = node.add_parser("join-token", help="a token and the command for machines to join a node pool")
    p.add_argument("--cluster", "-c", required=True)
    p.add_argument("--pool", "-p", required=True)
    p.add_argument("--ttl", type=int, default=86400, help="seconds the token stays valid (60..604800)")
    api_options(p)
    p.set_defaults(func=join_token)
    p = node.add_parser("join-tokens", help="the cluster's live join tokens (no secrets)")
    p.add_argument("--cluster", "-c", required=True)
    api_options(p)
    p.set_defaults(func=join_tokens)
    p = node.add_parser("revoke-join-token", help="revoke a join token")
    p.add_argument("token_id")
    p.add_argument("--cluster", "-c", required=True)
    api_options(p)
    p.set_defaults(func=revoke_join_token)
    node_join.add_parser(node)
