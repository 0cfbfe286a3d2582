"""berth login / logout / whoami."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from .. import config
from ..client import ApiProblem, Client
from ..output import emit


def login(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("BERTH_TOKEN") or ""
    if not token:
        token = sys.stdin.readline().strip() if args.token_stdin else getpass.getpass("API token: ").strip()
    client = Client(server=args.server, token=token, tenant=args.tenant or "")
    try:
        me = client.get("/api/v1/whoami")
    except ApiProblem as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    path = config.save(config.CliConfig(server=args.server, token=token, tenant=args.tenant or ""))
    print(f"logged in to {args.server} as {me['user']}; saved to {path}")
    return 0


def logout(args: argparse.Namespace) -> int:
    path = config.config_path()
    if path.exists():
        path.unlink()
    print("logged out")
    return 0


def whoami(args: argparse.Namespace) -> int:
    cfg = config.load()
    try:
        me = Client(server=cfg.server, token=cfg.token, tenant=cfg.tenant).get("/api/v1/whoami")
    except ApiProblem as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    emit(me, fmt=args.output, columns=["user", "via", "bindings"])
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("login", help="check a token against the gateway and save it (0600)")
    p.add_argument("--server", required=True, help="gateway URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--token", help="API token (else $BERTH_TOKEN, else asked for)")
    p.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    p.add_argument("--tenant", help="default tenant for later commands")
    p.set_defaults(func=login)
    p = sub.add_parser("logout", help="forget the saved token")
    p.set_defaults(func=logout)
    p = sub.add_parser("whoami", help="the logged-in user and their roles")
    p.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    p.set_defaults(func=whoami)
