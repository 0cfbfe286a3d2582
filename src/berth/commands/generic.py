"""The argparse tree and the runners of the table-driven resources (catalog/): one function per
verb kind instead of a module per resource."""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from collections.abc import Callable
from typing import Any

from ..client import ApiProblem, Client
from ..output import emit
from . import body as bodies
from .common import accepted, api_options, command, show, wait_options
from .help import epilog
from .spec import SCOPE_SHORT, Flag, Resource, Verb

Groups = dict[str, "argparse._SubParsersAction[argparse.ArgumentParser]"]


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], groups: Groups, resources: tuple[Resource, ...]
) -> None:
    for res in resources:
        if res.extends:
            verbs = groups[res.name]
        else:
            p = sub.add_parser(
                res.name,
                aliases=list(res.aliases),
                help=res.help,
                description=res.description or res.help,
                epilog=epilog([f"berth {res.name} {v.name} --help" for v in res.verbs[:1]]),
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
            verbs = groups[res.name] = p.add_subparsers(dest="verb", required=True, metavar="VERB")
        for verb in res.verbs:
            add_verb(verbs, res, verb)


def default_example(res: Resource, verb: Verb) -> str:
    words = ["berth", res.name, verb.name]
    if verb.positional or verb.name_field:
        words.append((verb.positional or verb.name_field).upper())
    words += [f"--{s} {s.upper()}" for s in verb.scope]
    if verb.body:
        words.append(f"-f {res.name}.yaml")
    return " ".join(words)


def add_verb(verbs: argparse._SubParsersAction[argparse.ArgumentParser], res: Resource, verb: Verb) -> None:
    p = verbs.add_parser(
        verb.name,
        aliases=list(verb.aliases),
        help=verb.help,
        description=f"{verb.help}\n\n  {verb.method} {verb.path}",
        epilog=epilog(list(verb.examples) or [default_example(res, verb)]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if verb.positional:
        from_file = verb.body and verb.kind == "write"
        p.add_argument(
            "item",
            metavar=verb.positional.upper(),
            nargs="?" if from_file else None,
            help=f"the {verb.positional}" + (" (or `name:` in the file)" if from_file else ""),
        )
    elif verb.name_field:
        p.add_argument(
            "item", metavar="NAME", nargs="?", help=f"the new {res.name}'s {verb.name_field} (or in -f FILE)"
        )
    for scope in verb.scope:
        names = [f"--{scope.replace('_', '-')}", *([SCOPE_SHORT[scope]] if scope in SCOPE_SHORT else [])]
        p.add_argument(*names, dest=f"p_{scope}", required=True, metavar=scope.upper())
    for flag in verb.flags:
        _add_flag(p, flag)
    if verb.body:
        p.add_argument("-f", "--file", help="the body as YAML or JSON ('-' reads stdin); flags override it")
        p.add_argument(
            "--set", action="append", default=[], metavar="KEY=VALUE", help="any body field (a.b=1 nests; YAML values)"
        )
    api_options(p)
    if verb.kind == "write":
        wait_options(p, timeout=verb.timeout)
    p.set_defaults(func=runner(res, verb), routes=((verb.method, verb.path),))


def _add_flag(p: argparse.ArgumentParser, flag: Flag) -> None:
    kw: dict[str, Any] = {"dest": flag.dest, "help": flag.help or None}
    if flag.type == "bool":
        kw.update(action=argparse.BooleanOptionalAction, default=None)
    elif flag.type in ("list", "map"):
        kw.update(action="append", metavar="KEY=VALUE" if flag.type == "map" else "VALUE")
    elif flag.type in ("int", "float"):
        kw.update(type=int if flag.type == "int" else float)
    if flag.choices:
        kw["choices"] = list(flag.choices)
    p.add_argument(flag.option, **kw)


def fill_path(verb: Verb, args: argparse.Namespace, client: Client, item: str) -> str:
    values: dict[str, str] = {}
    for param in verb.params:
        if param == verb.positional:
            values[param] = item
        elif param == "tenant":
            if not client.tenant:
                raise ApiProblem(0, "no tenant: give --tenant T (or log in with --tenant)")
            values[param] = client.tenant
        else:
            values[param] = getattr(args, f"p_{param}")
    return verb.path.format(**{k: urllib.parse.quote(v, safe="") for k, v in values.items()})


def runner(res: Resource, verb: Verb) -> Callable[[argparse.Namespace], int]:
    @command
    def run(args: argparse.Namespace, client: Client) -> int:
        item = str(getattr(args, "item", None) or "")
        if verb.kind != "write":
            query = {
                k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in bodies.flag_values(verb, args).items()
            }
            path = fill_path(verb, args, client, item) + ("?" + urllib.parse.urlencode(query) if query else "")
            if verb.kind == "list":
                return show(args, list(client.list_all(path)), list(verb.columns or res.columns))
            return _print(args, client.get(path), verb.columns)
        try:
            body = bodies.build(verb, args) if verb.body or verb.flags else None
        except bodies.BodyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if body is not None and verb.positional:
            named = body.pop("name", None)
            item = item or str(named or "")
        if body is not None and verb.name_field and item:
            body[verb.name_field] = item
        if verb.positional and not item:
            print(f"error: give the {verb.positional} (or `name:` in -f FILE)", file=sys.stderr)
            return 2
        if body is not None and verb.wrap:
            body = {verb.wrap: body}
        path = fill_path(verb, args, client, item)
        reply = client.request(verb.method, path, body, idempotent=verb.method == "POST")
        label = " ".join(x for x in (verb.name, res.name, item or str((body or {}).get(verb.name_field, ""))) if x)
        if isinstance(reply, dict) and isinstance(reply.get("operation"), dict):
            return accepted(args, client, reply, label)
        if reply is None:
            print(f"{label}: done")
            return 0
        return _print(args, reply, verb.columns)

    return run


def _print(args: argparse.Namespace, data: Any, columns: tuple[str, ...]) -> int:
    if isinstance(data, str):
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
        return 0
    if args.output == "table" and isinstance(data, dict) and not columns:
        emit(data, fmt="yaml")  # a document, not a row: shown whole
        return 0
    return show(args, data, list(columns))
