"""The declarative form of a resource's commands: which gateway path each verb calls, the flags
that fill its body or query, its table columns and its --help examples (generic.py builds the
argparse tree and the runners from these; catalog/ holds the table itself)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

FlagType = Literal["str", "int", "float", "bool", "list", "map", "yaml"]
Kind = Literal["list", "get", "write"]

# path parameters that are options of every verb (never the positional NAME), with short forms
SCOPE_SHORT = {"cluster": "-c", "namespace": "-n"}


@dataclass(frozen=True, kw_only=True)
class Flag:
    """A body field (or, on a GET, a query parameter) set from ``--<field>``.

    list: repeatable (or comma separated); map: repeatable key=value; yaml: any YAML/JSON value."""

    field: str
    help: str = ""
    type: FlagType = "str"
    choices: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        return "--" + self.field.replace("_", "-").rstrip("-")

    @property
    def dest(self) -> str:
        return "f_" + self.field


@dataclass(frozen=True, kw_only=True)
class Verb:
    name: str
    method: str
    path: str  # the gateway's path template, e.g. /api/v1/dr-groups/{group}:drill
    kind: Kind
    help: str
    flags: tuple[Flag, ...] = ()
    body: bool = False  # takes -f FILE and --set key=value
    wrap: str = ""  # the body is sent nested under this field ({"spec": {...}})
    name_field: str = ""  # create: the body field the positional NAME fills
    item: str | None = None  # the path parameter that is the positional argument (None: the last one)
    columns: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    timeout: float = 900.0
    aliases: tuple[str, ...] = ()

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def positional(self) -> str:
        """The path parameter given as the positional argument ('' for none)."""
        if self.item is not None:
            return self.item
        if self.kind == "list" or self.name_field or not self.params:
            return ""
        # /x/{name} and /x/{name}:verb act on the item; /x/{cluster}/nodes:labels on a collection
        after = self.path.rsplit("}", 1)[1]
        return self.params[-1] if after == "" or after.startswith(":") else ""

    @property
    def scope(self) -> list[str]:
        """Path parameters given as options (--cluster C); ``tenant`` is the global --tenant."""
        return [p for p in self.params if p != self.positional and p != "tenant"]


@dataclass(frozen=True, kw_only=True)
class Resource:
    name: str
    help: str
    verbs: tuple[Verb, ...]
    columns: tuple[str, ...] = ("name",)
    aliases: tuple[str, ...] = ()
    extends: bool = False  # the group exists (hand-written verbs); these verbs are added to it
    description: str = ""


# -- shorthands for the usual verbs (keyword arguments are further Verb fields) -------------------


def _ex(example: str) -> tuple[str, ...]:
    return (example,) if example else ()


def list_(path: str, what: str, *, example: str = "", **kw: Any) -> Verb:
    return replace(
        Verb(name="list", method="GET", path=path, kind="list", help=f"list {what}", examples=_ex(example)), **kw
    )


def get(path: str, what: str, *, example: str = "", **kw: Any) -> Verb:
    verb = Verb(name="get", method="GET", path=path, kind="get", help=f"show {what}", examples=_ex(example))
    return replace(verb, **kw)


def write(name: str, method: str, path: str, help: str, *, example: str = "", **kw: Any) -> Verb:
    return replace(Verb(name=name, method=method, path=path, kind="write", help=help, examples=_ex(example)), **kw)


def create(path: str, what: str, *, name_field: str = "name", example: str = "", **kw: Any) -> Verb:
    help = f"create {what} (from flags, -f FILE or both; flags win)"
    return write(kw.pop("name", "create"), "POST", path, help, body=True, name_field=name_field, example=example, **kw)


def update(path: str, what: str, *, method: str = "PUT", example: str = "", **kw: Any) -> Verb:
    help = f"replace {what}'s spec (-f FILE and/or flags; NAME may come from the file)"
    return write(kw.pop("name", "update"), method, path, help, body=True, example=example, **kw)


def delete(path: str, what: str, *, example: str = "", **kw: Any) -> Verb:
    return write(kw.pop("name", "delete"), "DELETE", path, f"delete {what}", example=example, **kw)


def action(name: str, path: str, help: str, *, example: str = "", **kw: Any) -> Verb:
    return write(name, "POST", path, help, example=example, **kw)


def crud(
    base: str,
    param: str,
    what: str,
    *,
    group: str,
    flags: tuple[Flag, ...] = (),
    list_flags: tuple[Flag, ...] = (),
    columns: tuple[str, ...] = (),
) -> tuple[Verb, ...]:
    """list / get / create / update / delete of a collection at ``base`` with items at ``base/{param}``."""
    item = f"{base}/{{{param}}}"
    return (
        list_(base, f"{what}s", flags=list_flags, columns=columns, example=f"berth {group} list -o yaml"),
        get(item, f"a {what}", example=f"berth {group} get NAME -o json"),
        create(base, f"a {what}", flags=flags, example=f"berth {group} create -f {group}.yaml"),
        update(item, f"a {what}", flags=flags, example=f"berth {group} update NAME -f {group}.yaml"),
        delete(item, f"a {what}", example=f"berth {group} delete NAME"),
    )
