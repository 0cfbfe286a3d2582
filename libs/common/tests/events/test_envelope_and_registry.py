from __future__ import annotations

import json

import pytest
from berth_common.events import Envelope, MessageRejected, Registry
from berth_common.events.registry import MessageSpec
from pydantic import BaseModel, Field, ValidationError


class Created(BaseModel):
    cluster: str = Field(min_length=1)
    nodes: int = Field(ge=0)


@pytest.fixture
def reg() -> Registry:
    r = Registry()
    r.register(MessageSpec("berth.test.created.v1", "event", "berth.evt.test.created", Created, "a test fact"))
    return r


def test_envelope_round_trips_with_extensions(reg: Registry) -> None:
    env = reg.envelope(Created(cluster="c1", nodes=3), source="test", tenant="acme", subject="clusters/c1")
    again, payload = reg.parse(env.to_json())
    assert again == env
    assert payload == Created(cluster="c1", nodes=3)
    assert again.specversion == "1.0" and again.tenant == "acme"


def test_caused_carries_correlation_and_causation(reg: Registry) -> None:
    first = reg.envelope(Created(cluster="c1", nodes=1), source="a", tenant="acme")
    second = reg.envelope(Created(cluster="c1", nodes=2), source="b", **first.caused())
    assert second.correlationid == first.id and second.causationid == first.id and second.tenant == "acme"
    third = reg.envelope(Created(cluster="c1", nodes=3), source="c", **second.caused())
    assert third.correlationid == first.id and third.causationid == second.id


def test_unknown_type_is_rejected_with_its_reason(reg: Registry) -> None:
    raw = Envelope(source="x", type="berth.test.unknown.v1").to_json()
    with pytest.raises(MessageRejected, match=r"unknown message type 'berth\.test\.unknown\.v1'"):
        reg.parse(raw)


def test_invalid_data_is_rejected_naming_the_field(reg: Registry) -> None:
    raw = Envelope(source="x", type="berth.test.created.v1", data={"cluster": "", "nodes": -1}).to_json()
    with pytest.raises(MessageRejected) as err:
        reg.parse(raw)
    assert "cluster" in err.value.reason and "nodes" in err.value.reason


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"{}",
        json.dumps({"source": "x", "type": "Bad Type"}).encode(),
        json.dumps({"source": "x", "type": "berth.a.b.v1", "specversion": "0.3"}).encode(),
    ],
)
def test_invalid_envelopes_are_rejected(reg: Registry, raw: bytes) -> None:
    with pytest.raises(MessageRejected, match="invalid envelope"):
        reg.parse(raw)


def test_type_must_be_versioned() -> None:
    with pytest.raises(ValidationError):
        Envelope(source="x", type="berth.cluster.created")


def test_registering_a_type_twice_with_another_model_fails(reg: Registry) -> None:
    class Other(BaseModel):
        x: int

    with pytest.raises(ValueError, match="registered twice"):
        reg.register(MessageSpec("berth.test.created.v1", "event", "berth.evt.test.created", Other, ""))
