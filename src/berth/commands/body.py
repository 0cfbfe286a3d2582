"""A request body from a file (-f, YAML or JSON, '-' for stdin), typed flags and --set key=value
(later ones win: file, then --set, then the named flags)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from .spec import Flag, Verb


class BodyError(ValueError):
    pass


def load_file(name: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text()
        loaded = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise BodyError(f"{name}: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise BodyError(f"{name}: expected a mapping of fields, got {type(loaded).__name__}")
    return loaded


def parse_pair(text: str, *, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise BodyError(f"{flag} {text!r}: expected key=value")
    return key, value


def _yaml_value(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError:
        return text


def set_path(body: dict[str, Any], dotted: str, value: Any) -> None:
    """``a.b=1`` sets body["a"]["b"] (creating the mappings on the way)."""
    *parents, last = dotted.split(".")
    node = body
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def flag_value(flag: Flag, raw: Any) -> Any:
    """What a flag's parsed argparse value becomes in the body (None: the flag was not given)."""
    if flag.type == "bool":
        return raw  # store_true/store_false pair: None when neither was given
    if raw is None or raw == []:
        return None
    if flag.type == "list":
        return [part for item in raw for part in str(item).split(",") if part]
    if flag.type == "map":
        return dict(parse_pair(item, flag=flag.option) for item in raw)
    if flag.type == "yaml":
        return _yaml_value(raw)
    return raw


def flag_values(verb: Verb, args: argparse.Namespace) -> dict[str, Any]:
    out = {}
    for flag in verb.flags:
        value = flag_value(flag, getattr(args, flag.dest, None))
        if value is not None:
            out[flag.field] = value
    return out


def build(verb: Verb, args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if getattr(args, "file", None):
        body.update(load_file(args.file))
    for item in getattr(args, "set", None) or []:
        key, value = parse_pair(item, flag="--set")
        set_path(body, key, _yaml_value(value))
    body.update(flag_values(verb, args))
    return body
