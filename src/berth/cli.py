"""The `berth` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .commands import completion
from .commands import register as register_api_commands
from .commands.handwritten import decorate
from .launcher import UpOptions, up


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="berth",
        description="Berth container platform",
        epilog="examples:\n  berth login --server https://127.0.0.1:8080 --ca-file .berth/gateway-ca.pem\n"
        "  berth cluster list\n"
        "  berth <group> <verb> --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_up = sub.add_parser("up", help="run the whole platform on this machine (embedded defaults)")
    p_up.add_argument("--data-dir", type=Path, default=Path(os.environ.get("BERTH_DATA_DIR", ".berth")))
    p_up.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("BERTH_GATEWAY_PORT", "8080")),
        help="gateway port (API and console)",
    )
    p_up.add_argument("--nats-port", type=int, default=4222)
    p_up.add_argument(
        "--side-port-base",
        type=int,
        default=9100,
        help="NATS monitoring on this port, services' /healthz /readyz /metrics on the next ones",
    )
    p_up.add_argument("--host", default="127.0.0.1")
    p_up.add_argument(
        "--insecure-http",
        action="store_true",
        help="serve the gateway on plain HTTP (default: HTTPS with a CA generated in the data dir)",
    )
    p_up.add_argument("--only", action="append", default=[], help="start only this service (repeatable)")
    sub.add_parser("version", help="print the version")
    completion.add_parser(sub)
    register_api_commands(sub)
    decorate(parser)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "completion":
        sys.stdout.write(completion.script(parser, args.shell))
        return
    if args.command == "up":
        sys.exit(
            up(
                UpOptions(
                    data_dir=args.data_dir,
                    nats_port=args.nats_port,
                    gateway_port=args.port,
                    side_port_base=args.side_port_base,
                    host=args.host,
                    only=args.only,
                    insecure_http=args.insecure_http,
                )
            )
        )
    if hasattr(args, "func"):
        sys.exit(args.func(args))
    if args.command == "version":
        from importlib.metadata import version

        print(version("berth"))
