"""proto/ is generated from libs/schema alone; CI fails when they drift apart, and when a service's
real wiring (what it consumes, answers and asks) differs from what the schema declares."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from berth_common.events import registry
from berth_schema import contract, wiring

ROOT = Path(__file__).resolve().parents[2]


def test_proto_matches_the_schema() -> None:
    stale = contract.drift(ROOT / "proto")
    assert not stale, f"proto/ is out of date for {stale}; run scripts/gen-proto and commit the result"


def test_proto_renders_from_the_schema_package_alone() -> None:
    """No service module is imported to render the contract (an image holds one service)."""
    code = (
        "import sys; from berth_schema import contract; contract.render(); "
        "bad = sorted(m for m in sys.modules if m.startswith('berth_') "
        "and m.split('.')[0] not in ('berth_schema', 'berth_common')); print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_message_type_has_a_schema_and_a_channel() -> None:
    doc = contract.asyncapi()
    addresses = {c["address"] for c in doc["channels"].values()}
    for spec in contract.product_messages(registry):
        assert (ROOT / "proto" / "schemas" / contract.schema_file_name(spec.type)).exists()
        assert spec.subject in addresses
        assert spec.subject.startswith(("berth.evt.", "berth.cmd."))


SERVICE_MAINS = {svc: "berth_" + svc.replace("-", "_") + ".main" for svc in wiring.SERVICES}


@pytest.mark.parametrize("service", wiring.SERVICES)
def test_service_wiring_matches_the_schema_declaration(service: str) -> None:
    app = importlib.import_module(SERVICE_MAINS[service]).app
    consumed = {h.subject for h in app.bus.handlers.values()}
    own_commands = {
        s.subject
        for s in contract.product_messages(registry)
        if s.kind == "command" and wiring.owner_of_subject(s.subject) == service
    }
    declared = own_commands | set(wiring.CONSUMES_FACTS.get(service, ()))
    assert consumed == declared, f"{service} consumes {sorted(consumed ^ declared)} unlike the schema's wiring"
    typed = {q.op for q in contract.product_queries(registry) if q.service == service}
    answered = set(app.bus.queries) - {"info"}
    assert answered == typed, (
        f"{service}: queries without a schema model {sorted(answered - typed)}; "
        f"schema queries it does not answer {sorted(typed - answered)}"
    )
