"""berth login / logout / whoami."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .. import config
from ..client import ApiProblem, Client
from ..output import emit


def login(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("BERTH_TOKEN") or ""
    if not token:
        token = sys.stdin.readline().strip() if args.token_stdin else getpass.getpass("API token: ").strip()
    ca_file = str(Path(args.ca_file).resolve()) if args.ca_file else ""
    client = Client(server=args.server, token=token, tenant=args.tenant or "", ca_file=ca_file)
    try:
        me = client.get("/api/v1/whoami")
    except ApiProblem as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    tenant = args.tenant or _default_tenant(client)
    path = config.save(config.CliConfig(server=args.server, token=token, tenant=tenant, ca_file=ca_file))
    print(f"logged in to {args.server} as {me['user']}; saved to {path}")
    if tenant:
        print(f"default tenant: {tenant} (change it with `berth login --tenant T` or --tenant on a command)")
    return 0


def _default_tenant(client: Client) -> str:
    """The caller's only tenant, else the one named ``default`` (`berth up` makes it), else none."""
    try:
        page = client.get("/api/v1/tenants?limit=100")
    except ApiProblem:
        return ""
    names = [str(t["name"]) for t in page.get("items", []) if isinstance(t, dict) and "name" in t]
    if len(names) == 1:
        return names[0]
    return "default" if "default" in names else ""


def logout(args: argparse.Namespace) -> int:
    path = config.config_path()
    if path.exists():
        path.unlink()
    print("logged out")
    return 0


def whoami(args: argparse.Namespace) -> int:
    cfg = config.load()
    try:
        client = Client(server=cfg.server, token=cfg.token, tenant=cfg.tenant, ca_file=cfg.ca_file)
        me = client.get("/api/v1/whoami")
    except ApiProblem as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    emit(me, fmt=args.output, columns=["user", "via", "bindings"])
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("login", help="check a token against the gateway and save it (0600)")
    p.add_argument("--server", required=True, help="gateway URL, e.g. https://127.0.0.1:8080")
    p.add_argument("--ca-file", help="PEM CA to verify the gateway with (saved; `berth up`: <data dir>/gateway-ca.pem)")
    p.add_argument("--token", help="API token (else $BERTH_TOKEN, else asked for)")
    p.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    p.add_argument("--tenant", help="default tenant for later commands")
    p.set_defaults(func=login)
    p = sub.add_parser("logout", help="forget the saved token")
    p.set_defaults(func=logout)
    p = sub.add_parser("whoami", help="the logged-in user and their roles")
    p.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    p.set_defaults(func=whoami)
