"""berth pool create | list | get | scale  (--cluster C): node pools of a cluster.

``create`` takes its fields from flags, from ``-f pool.yaml`` (the API's NodePoolCreate body as
YAML or JSON), or both: flags given on the command line win over the file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from ..client import Client
from .common import accepted, api_options, command, show, wait_options

COLUMNS = ["name", "flavour.cpu", "flavour.memory_gib", "count", "zone", "version"]


def _base(args: argparse.Namespace) -> str:
    return f"/api/v1/clusters/{args.cluster}/nodepools"


def _pair(flag: str) -> Any:
    def parse(text: str) -> tuple[str, str]:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: expected key=value")
        return key, value

    return parse


def _taint(text: str) -> dict[str, str]:
    """kubectl's form: key[=value]:Effect."""
    head, sep, effect = text.rpartition(":")
    if not sep or not head:
        raise argparse.ArgumentTypeError(f"--taint {text!r}: expected key[=value]:Effect")
    key, _, value = head.partition("=")
    return {"key": key, "value": value, "effect": effect}


class BodyError(ValueError):
    pass


def pool_body(args: argparse.Namespace) -> dict[str, Any]:
    """The create body: the file's fields, then every flag that was given."""
    body: dict[str, Any] = {}
    if args.file:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
        loaded = yaml.safe_load(text)
        if not isinstance(loaded, dict):
            raise BodyError(f"{args.file}: expected a mapping of pool fields, got {type(loaded).__name__}")
        body.update(loaded)
    if args.name:
        body["name"] = args.name
    for flag, key in (("flavour", "flavour"), ("count", "count"), ("zone", "zone"), ("max_pods", "max_pods")):
        value = getattr(args, flag)
        if value is not None:
            body[key] = value
    if args.label:
        body["labels"] = {**body.get("labels", {}), **dict(args.label)}
    if args.taint:
        body["taints"] = [*body.get("taints", []), *args.taint]
    if args.autoscale_min is not None or args.autoscale_max is not None:
        auto = dict(body.get("autoscaling") or {})
        auto["enabled"] = True
        if args.autoscale_min is not None:
            auto["min_count"] = args.autoscale_min
        if args.autoscale_max is not None:
            auto["max_count"] = args.autoscale_max
        body["autoscaling"] = auto
    missing = [k for k in ("name", "flavour") if not body.get(k)]
    if missing:
        raise BodyError("missing " + " and ".join(missing) + ": give them as flags (NAME, --flavour) or in -f FILE")
    return body


@command
def create(args: argparse.Namespace, client: Client) -> int:
    try:
        body = pool_body(args)
    except (BodyError, OSError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    reply = client.request("POST", _base(args), body, idempotent=True)
    return accepted(args, client, reply, f"create pool {body['name']}")


@command
def list_(args: argparse.Namespace, client: Client) -> int:
    return show(args, list(client.list_all(_base(args))), COLUMNS)


@command
def get(args: argparse.Namespace, client: Client) -> int:
    return show(args, client.get(f"{_base(args)}/{args.name}"), COLUMNS)


@command
def scale(args: argparse.Namespace, client: Client) -> int:
    reply = client.request("POST", f"{_base(args)}/{args.name}:scale", {"size": args.size})
    return accepted(args, client, reply, f"scale pool {args.name} to {args.size}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pool = sub.add_parser("pool", aliases=["nodepool"], help="node pools of a cluster")
    verbs = pool.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("create", help="create a node pool and its nodes, and wait until they are added")
    p.add_argument("name", nargs="?", help="pool name (or `name:` in the file)")
    p.add_argument("--cluster", "-c", required=True)
    p.add_argument("-f", "--file", help="pool spec as YAML or JSON ('-' reads stdin); flags override it")
    p.add_argument("--flavour", "--flavor", dest="flavour", help="node size, e.g. 2c4g (cores c, GiB g)")
    p.add_argument("--count", type=int, help="number of nodes (default 1)")
    p.add_argument("--zone", help="availability zone (default zone-a)")
    p.add_argument("--max-pods", dest="max_pods", type=int)
    p.add_argument("--label", type=_pair("--label"), action="append", default=[], help="key=value (repeatable)")
    p.add_argument("--taint", type=_taint, action="append", default=[], help="key[=value]:Effect (repeatable)")
    p.add_argument("--autoscale-min", dest="autoscale_min", type=int, help="turn autoscaling on with this minimum")
    p.add_argument("--autoscale-max", dest="autoscale_max", type=int, help="turn autoscaling on with this maximum")
    api_options(p)
    wait_options(p, timeout=600)
    p.set_defaults(func=create)
    p = verbs.add_parser("list", help="list node pools")
    p.add_argument("--cluster", "-c", required=True)
    api_options(p)
    p.set_defaults(func=list_)
    p = verbs.add_parser("get", help="show a node pool")
    p.add_argument("name")
    p.add_argument("--cluster", "-c", required=True)
    api_options(p)
    p.set_defaults(func=get)
    p = verbs.add_parser("scale", help="set a node pool's node count")
    p.add_argument("name")
    p.add_argument("--cluster", "-c", required=True)
    p.add_argument("--size", type=int, required=True)
    api_options(p)
    wait_options(p, timeout=600)
    p.set_defaults(func=scale)
