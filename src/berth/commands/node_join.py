"""berth node join: run on a new machine to join a cluster with a token from
``berth node join-token`` (pinned discovery, TLS bootstrap, registration, then heartbeats)."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from berth_node_manager.agent import JoinError, NodeAgent, NodeIdentity, bootstrap_client_certificate, discover
from berth_node_manager.agent.node import NodeSpec, load_identity
from berth_schema.node.labels import Taint, check_dns_label, check_key, check_value


def _label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--label {text!r}: expected key=value")
    try:
        return check_key(key, field="--label"), check_value(value, field="--label")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _taint(text: str) -> dict[str, str]:
    """kubectl's form: key[=value]:Effect."""
    head, sep, effect = text.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"--taint {text!r}: expected key[=value]:Effect")
    key, _, value = head.partition("=")
    try:
        return Taint.model_validate({"key": key, "value": value, "effect": effect}).to_kube()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--taint {text!r}: {exc}") from None


async def join(args: argparse.Namespace) -> int:
    name = check_dns_label(args.name, field="--name") if args.name else socket.gethostname().lower()
    directory = Path(args.dir)
    print(f"discovering {args.server} with token {args.token.split('.')[0]}...", flush=True)
    info = await discover(args.server, args.token, args.ca_cert_hash, wait_seconds=args.wait)
    print(f"cluster CA pinned; requesting a client certificate for node {name}...", flush=True)
    key, cert = await bootstrap_client_certificate(info, args.token, name, wait_seconds=args.wait)
    identity = NodeIdentity(name=name, server=info.server, ca_pem=info.ca_pem, cert_pem=cert, key_pem=key)
    kubeconfig = identity.save(directory)
    spec = NodeSpec(
        cpu=args.cpu,
        memory_gib=args.memory_gib,
        max_pods=args.max_pods,
        address=args.address,
        labels=dict(args.label),
        taints=list(args.taint),
    )
    agent = NodeAgent(identity, directory, spec)
    await agent.register()
    print(f"node {name} registered; its credentials are in {kubeconfig}", flush=True)
    if args.once:
        return 0
    await agent.run(interval=args.heartbeat)
    return 0


async def resume(args: argparse.Namespace) -> int:
    name = check_dns_label(args.name, field="--name") if args.name else socket.gethostname().lower()
    directory = Path(args.dir)
    identity = load_identity(directory, name)
    agent = NodeAgent(identity, directory, NodeSpec())
    await agent.heartbeat()
    print(f"node {name}: heartbeat sent to {identity.server}", flush=True)
    if args.rotate or agent.rotation_due():
        await agent.rotate()
        print(f"node {name}: client certificate renewed", flush=True)
    if not args.once:
        await agent.run(interval=args.heartbeat)
    return 0


def run(args: argparse.Namespace) -> int:
    return _run(join(args))


def run_agent(args: argparse.Namespace) -> int:
    return _run(resume(args))


def _run(main: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(main)
    except (JoinError, ValueError) as exc:
        print(f"error: join failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def add_parser(node: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = node.add_parser("join", help="join this machine to a cluster (run on the machine)")
    p.add_argument("--server", required=True, help="the cluster's API server URL, as printed by join-token")
    p.add_argument("--token", required=True, help="the join token (<id>.<secret>)")
    p.add_argument(
        "--ca-cert-hash", required=True, action="append", help="sha256:<hex> pin of the cluster CA (repeatable)"
    )
    p.add_argument("--name", help="node name (default: this host's name)")
    p.add_argument("--dir", default="/var/lib/berth-node", help="where the node's key and kubeconfig are kept")
    p.add_argument("--cpu", type=int, default=2)
    p.add_argument("--memory-gib", type=int, default=4)
    p.add_argument("--max-pods", type=int, default=110)
    p.add_argument("--address", default="127.0.0.1", help="the node's InternalIP")
    p.add_argument("--label", type=_label, action="append", default=[], help="key=value (repeatable)")
    p.add_argument("--taint", type=_taint, action="append", default=[], help="key[=value]:Effect (repeatable)")
    p.add_argument("--wait", type=float, default=120.0, help="seconds to wait for discovery and the certificate")
    p.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats")
    p.add_argument("--once", action="store_true", help="register and exit (no heartbeats)")
    p.set_defaults(func=run)
    p = node.add_parser("agent", help="keep a joined machine's node alive after a restart (run on the machine)")
    p.add_argument("--name", help="node name (default: this host's name)")
    p.add_argument("--dir", default="/var/lib/berth-node", help="where berth node join kept the node's identity")
    p.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats")
    p.add_argument("--once", action="store_true", help="one heartbeat, then exit")
    p.add_argument("--rotate", action="store_true", help="renew the client certificate now (else at 80%% of its life)")
    p.set_defaults(func=run_agent)
