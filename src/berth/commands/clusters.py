"""berth cluster create | list | get | delete | upgrade | kubeconfig."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..client import ApiProblem, Client
from .common import accepted, api_options, command, show, wait_options

COLUMNS = ["name", "phase", "version", "provider", "tenant"]


@command
def create(args: argparse.Namespace, client: Client) -> int:
    body: dict[str, Any] = {"name": args.name, "flavour": args.flavour}
    provider = args.provider or default_provider(client)
    if provider:
        body["provider"] = provider
    for key in (
        "version",
        "pod_cidr",
        "service_cidr",
        "vpc_cidr",
        "subnet_cidr",
        "network_model",
        "kube_proxy_mode",
        "description",
    ):
        value = getattr(args, key)
        if value:
            body[key] = value
    if args.ha:
        body["ha"] = True
    reply = client.request("POST", "/api/v1/clusters", body, idempotent=True)
    return accepted(args, client, reply, f"create {args.name}")


def default_provider(client: Client) -> str:
    """The provider the platform says works here (cluster-options ``default_provider``, else its
    only configured one); empty leaves the choice to the server."""
    try:
        options = client.get("/api/v1/cluster-options")
    except ApiProblem:
        return ""
    if not isinstance(options, dict):
        return ""
    if options.get("default_provider"):
        return str(options["default_provider"])
    providers = [p.get("name") if isinstance(p, dict) else p for p in options.get("providers") or []]
    return str(providers[0]) if len(providers) == 1 and providers[0] else ""


@command
def list_(args: argparse.Namespace, client: Client) -> int:
    return show(args, list(client.list_all("/api/v1/clusters")), COLUMNS)


@command
def get(args: argparse.Namespace, client: Client) -> int:
    return show(args, client.get(f"/api/v1/clusters/{args.name}"), COLUMNS)


@command
def delete(args: argparse.Namespace, client: Client) -> int:
    reply = client.request("DELETE", f"/api/v1/clusters/{args.name}")
    return accepted(args, client, reply, f"delete {args.name}")


@command
def upgrade(args: argparse.Namespace, client: Client) -> int:
    reply = client.request("POST", f"/api/v1/clusters/{args.name}:upgrade", {"version": args.version})
    return accepted(args, client, reply, f"upgrade {args.name} to {args.version}")


@command
def kubeconfig(args: argparse.Namespace, client: Client) -> int:
    if args.admin:  # the cluster-admin credential: platform-admins only, recorded as released to them
        reply = client.get(f"/api/v1/clusters/{args.name}/kubeconfig")
    else:  # your own: your identity and your role's rights, short-lived
        body: dict[str, object] = {"ttl_seconds": args.ttl}
        if args.role:
            body["role"] = args.role
        if args.namespaces:
            body["namespaces"] = args.namespaces.split(",")
        reply = client.request("POST", f"/api/v1/clusters/{args.name}/kubeconfigs", body)
    text = reply.get("kubeconfig", "") if isinstance(reply, dict) else str(reply)
    if not args.file:
        sys.stdout.write(text)
        return 0
    path = Path(args.file)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    print(f"kubeconfig of {args.name} written to {path}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cluster = sub.add_parser("cluster", help="clusters").add_subparsers(dest="verb", required=True)
    p = cluster.add_parser("create", help="create a cluster and wait until it runs")
    p.add_argument("name")
    p.add_argument("--version")
    p.add_argument(
        "--provider",
        choices=["local", "hosted"],
        help="where the control plane runs (default: the platform's default, the one configured here)",
    )
    p.add_argument("--flavour", type=int, choices=[50, 200, 1000], default=50, help="management scale (nodes)")
    p.add_argument("--ha", action="store_true", help="highly available control plane")
    p.add_argument("--pod-cidr", dest="pod_cidr", help="container CIDR (default: chosen automatically)")
    p.add_argument("--service-cidr", dest="service_cidr")
    p.add_argument("--vpc-cidr", dest="vpc_cidr")
    p.add_argument("--subnet-cidr", dest="subnet_cidr")
    p.add_argument("--network-model", dest="network_model", choices=["overlay", "vpc"])
    p.add_argument("--kube-proxy-mode", dest="kube_proxy_mode", choices=["iptables", "ipvs"])
    p.add_argument("--description")
    api_options(p)
    wait_options(p)
    p.set_defaults(func=create)
    p = cluster.add_parser("list", help="list clusters")
    api_options(p)
    p.set_defaults(func=list_)
    p = cluster.add_parser("get", help="show a cluster")
    p.add_argument("name")
    api_options(p)
    p.set_defaults(func=get)
    p = cluster.add_parser("delete", help="delete a cluster")
    p.add_argument("name")
    api_options(p)
    wait_options(p)
    p.set_defaults(func=delete)
    p = cluster.add_parser("upgrade", help="upgrade a cluster's Kubernetes version")
    p.add_argument("name")
    p.add_argument("--version", required=True)
    api_options(p)
    wait_options(p)
    p.set_defaults(func=upgrade)
    p = cluster.add_parser(
        "kubeconfig",
        help="a kubeconfig with your identity and your role's rights (short-lived; --admin: cluster-admin)",
    )
    p.add_argument("name")
    p.add_argument("-f", "--file", help="write to this file (0600) instead of stdout")
    p.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds (600 to 86400; default 8 h)")
    p.add_argument("--role", help="a lesser role than yours (developer, viewer)")
    p.add_argument("--namespaces", help="comma-separated namespaces (developers and viewers bound to some)")
    p.add_argument("--admin", action="store_true", help="the cluster-admin kubeconfig (platform-admins; recorded)")
    api_options(p)
    p.set_defaults(func=kubeconfig)
