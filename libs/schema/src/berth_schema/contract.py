"""The wire contract generated from the schema package alone: one JSON Schema per message
type and per query, and an AsyncAPI 3.0 document of every subject with its publishers and
consumers (declared in ``wiring``). ``scripts/gen-proto`` writes them to ``proto/``; a test
regenerates them and fails on drift. No service needs to be installed to render it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from berth_common.events import Envelope, MessageSpec, QuerySpec, Registry
from berth_common.events import registry as default_registry

from . import DOMAINS as DOMAINS  # importing the package registers every domain's models
from . import wiring


def product_messages(reg: Registry) -> list[MessageSpec]:
    """Message types defined by the schema package (tests may register their own; those are not the contract)."""
    return [spec for spec in reg if spec.model.__module__.startswith("berth_schema.")]


def product_queries(reg: Registry) -> list[QuerySpec]:
    return [spec for spec in reg.queries() if spec.request.__module__.startswith("berth_schema.")]


def query_file_name(spec: QuerySpec) -> str:
    return f"query.{spec.service}.{spec.op}.schema.json"


def _queries(reg: Registry) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for spec in product_queries(reg):
        out.setdefault(spec.service, {})[spec.op] = {
            "address": spec.subject,
            "summary": spec.description or spec.request.__name__,
            "payload": {"$ref": f"./schemas/{query_file_name(spec)}"},
            "x-berth-askers": wiring.askers(spec.service, spec.op),
        }
    return out


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
    for q in product_queries(reg):
        out[query_file_name(q)] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://berth.dev/proto/{query_file_name(q)}",
            "x-berth-query": q.subject,
            "title": f"{q.service} {q.op}",
            "description": q.description,
            "properties": {
                "request": q.request.model_json_schema(mode="validation"),
                "reply": q.reply.model_json_schema(mode="serialization"),
            },
        }
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
    for spec in product_messages(reg):
        consumers = wiring.consumers(spec.subject, spec.kind)
        publishers = wiring.publishers(spec.subject, spec.kind)
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
        "x-berth-queries": _queries(reg),
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
    written = write(root)
    print(f"wrote {len(written)} files to {root}")


if __name__ == "__main__":
    main()
