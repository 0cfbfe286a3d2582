"""The wire contract generated from the message registry: one JSON Schema per message
type and an AsyncAPI 3.0 document of every subject. ``scripts/gen-proto`` writes them to
``proto/``; a test regenerates them and fails on drift."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import yaml

from .events import Envelope, MessageSpec, Registry
from .events import registry as default_registry

SERVICE_PACKAGES = (
    "berth_cluster_manager",
    "berth_node_manager",
    "berth_registry_sync",
    "berth_release_orchestrator",
    "berth_monitor_alert",
    "berth_dr_switcher",
    "berth_gateway",
)


def load_all_messages() -> list[str]:
    """Import every service's ``messages`` module so their models register. Returns the modules found."""
    found = []
    for pkg in SERVICE_PACKAGES:
        try:
            importlib.import_module(f"{pkg}.messages")
        except ModuleNotFoundError as exc:
            if exc.name not in (pkg, f"{pkg}.messages"):
                raise
            continue
        found.append(f"{pkg}.messages")
    return found


DOMAIN_OWNERS = {
    "cluster": "cluster-manager",
    "node": "node-manager",
    "registry": "registry-sync",
    "release": "release-orchestrator",
    "alert": "monitor-alert",
    "dr": "dr-switcher",
}


def service_wiring() -> dict[str, dict[str, list[str]]]:
    """For each service: the subjects it consumes and the queries it answers, read from its app."""
    out: dict[str, dict[str, list[str]]] = {}
    for pkg in SERVICE_PACKAGES:
        try:
            main = importlib.import_module(f"{pkg}.main")
        except ModuleNotFoundError as exc:
            if exc.name not in (pkg, f"{pkg}.main"):
                raise
            continue
        app = getattr(main, "app", None)
        if app is None:
            continue
        out[app.name] = {
            "consumes": sorted({h.subject for h in app.bus.handlers.values()}),
            "answers": sorted(s for s in app.bus.subjects if s.startswith("berth.api.")),
        }
    return out


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return len(s) > i
        if i >= len(s) or (tok != "*" and tok != s[i]):
            return False
    return len(p) == len(s)


def product_messages(reg: Registry) -> list[MessageSpec]:
    """Message types defined by Berth's packages (tests may register their own; those are not the contract)."""
    return [spec for spec in reg if spec.model.__module__.split(".", 1)[0].startswith("berth_")]


def schema_file_name(type_: str) -> str:
    return f"{type_}.schema.json"


def json_schemas(reg: Registry = default_registry) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {"envelope.schema.json": _envelope_schema()}
    for spec in product_messages(reg):
        schema = spec.model.model_json_schema(mode="serialization")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://berth.dev/proto/{schema_file_name(spec.type)}",
            "x-berth-type": spec.type,
            "x-berth-kind": spec.kind,
            "x-berth-subject": spec.subject,
            **schema,
        }
        out[schema_file_name(spec.type)] = schema
    return out


def _envelope_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://berth.dev/proto/envelope.schema.json",
        **Envelope.model_json_schema(mode="serialization"),
    }


def asyncapi(reg: Registry = default_registry) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    wiring = service_wiring()
    for spec in product_messages(reg):
        consumers = sorted(svc for svc, w in wiring.items() if any(_matches(p, spec.subject) for p in w["consumes"]))
        if spec.kind == "event":
            publishers = [DOMAIN_OWNERS.get(spec.subject.split(".")[2], spec.subject.split(".")[2])]
        else:
            publishers = ["gateway (HTTP and chatops) or another service"]
        key = spec.type.replace(".", "_")
        messages[key] = {
            "name": spec.type,
            "title": spec.model.__name__,
            "summary": spec.description or spec.model.__name__,
            "contentType": "application/json",
            "payload": {"$ref": f"./schemas/{schema_file_name(spec.type)}"},
        }
        channel_key = spec.subject.replace(".", "_").replace("-", "_")
        channel = channels.setdefault(
            channel_key,
            {"address": spec.subject, "messages": {}, "x-berth-publishers": publishers, "x-berth-consumers": consumers},
        )
        channel["messages"][key] = {"$ref": f"#/components/messages/{key}"}
        operations[f"{spec.kind}_{key}"] = {
            "action": "send" if spec.kind == "event" else "receive",
            "channel": {"$ref": f"#/channels/{channel_key}"},
            "messages": [{"$ref": f"#/channels/{channel_key}/messages/{key}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Berth internal event API",
            "version": "1.0.0",
            "description": (
                "Facts on berth.evt.<domain>.<event> (stream BERTH_EVENTS), commands on "
                "berth.cmd.<service>.<verb> (work-queue stream BERTH_COMMANDS), queries through "
                "nats.micro endpoints berth.api.<service>.<op>. Every message is a CloudEvents 1.0 "
                "envelope (schemas/envelope.schema.json) whose data matches its type's schema."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": dict(sorted(channels.items())),
        "x-berth-queries": {svc: w["answers"] for svc, w in sorted(wiring.items())},
        "operations": dict(sorted(operations.items())),
        "components": {"messages": dict(sorted(messages.items()))},
    }


def render(reg: Registry = default_registry) -> dict[str, str]:
    """Every file of proto/, by relative path, as text."""
    files = {
        f"schemas/{name}": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in json_schemas(reg).items()
    }
    files["asyncapi.yaml"] = yaml.safe_dump(asyncapi(reg), sort_keys=False, allow_unicode=True)
    return files


def write(root: Path, reg: Registry = default_registry) -> list[str]:
    files = render(reg)
    schemas = root / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    for stale in schemas.glob("*.json"):
        if f"schemas/{stale.name}" not in files:
            stale.unlink()
    for rel, text in files.items():
        (root / rel).write_text(text)
    return sorted(files)


def drift(root: Path, reg: Registry = default_registry) -> list[str]:
    """Paths under ``root`` that differ from what the registry generates."""
    files = render(reg)
    out = []
    for rel, text in files.items():
        path = root / rel
        if not path.exists() or path.read_text() != text:
            out.append(rel)
    for existing in (root / "schemas").glob("*.json") if (root / "schemas").exists() else []:
        if f"schemas/{existing.name}" not in files:
            out.append(f"schemas/{existing.name} (stale)")
    return sorted(out)


def main() -> None:
    import sys

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("proto")
    load_all_messages()
    written = write(root)
    print(f"wrote {len(written)} files to {root}")


if __name__ == "__main__":
    main()
