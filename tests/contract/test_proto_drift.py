"""proto/ is generated from the message models; CI fails when they drift apart."""

from __future__ import annotations

from pathlib import Path

from berth_common import contract
from berth_common.events import registry

ROOT = Path(__file__).resolve().parents[2]


def test_proto_matches_the_message_models() -> None:
    contract.load_all_messages()
    stale = contract.drift(ROOT / "proto")
    assert not stale, f"proto/ is out of date for {stale}; run scripts/gen-proto and commit the result"


def test_every_message_type_has_a_schema_and_a_channel() -> None:
    contract.load_all_messages()
    doc = contract.asyncapi()
    addresses = {c["address"] for c in doc["channels"].values()}
    for spec in contract.product_messages(registry):
        assert (ROOT / "proto" / "schemas" / contract.schema_file_name(spec.type)).exists()
        assert spec.subject in addresses
        assert spec.subject.startswith(("berth.evt.", "berth.cmd."))
