"""The schema package on its own: every message and query it declares is owned, named and
documented, and the wiring declaration only names real subjects and queries."""

from __future__ import annotations

import berth_schema
from berth_common.events import registry
from berth_schema import contract, wiring


def test_every_domain_has_an_owner_and_every_fact_a_known_domain() -> None:
    assert set(berth_schema.DOMAINS) == set(wiring.DOMAIN_OWNERS)
    for spec in contract.product_messages(registry):
        owner = wiring.owner_of_subject(spec.subject)
        assert owner in wiring.SERVICES, f"{spec.type} travels on {spec.subject}, owned by no service"


def test_every_command_is_named_after_its_service_and_versioned() -> None:
    for spec in contract.product_messages(registry):
        if spec.kind == "command":
            service, verb = spec.subject.removeprefix("berth.cmd.").split(".")
            assert spec.type.startswith(f"berth.cmd.{service}.{verb}.v"), spec.type


def test_declared_senders_consumers_and_askers_name_real_messages() -> None:
    subjects = {s.subject for s in contract.product_messages(registry)}
    for service, sent in wiring.SENDS.items():
        assert service in wiring.SERVICES
        for subject in sent:
            assert subject in subjects, f"{service} declares it sends {subject}, which the schema does not define"
            assert wiring.owner_of_subject(subject) != service
    for facts in wiring.CONSUMES_FACTS.values():
        for subject in facts:
            assert subject in subjects and subject.startswith("berth.evt."), subject
    for service, asked in wiring.ASKS.items():
        for name in asked:
            owner, op = name.split(".", 1)
            assert registry.has_query(owner, op), f"{service} asks {name}, which the schema does not define"


def test_every_query_has_distinct_request_and_reply_models() -> None:
    for spec in contract.product_queries(registry):
        assert spec.request is not spec.reply
        assert spec.service in wiring.SERVICES
        assert spec.request.__module__.startswith("berth_schema."), spec
        assert spec.reply.__module__.startswith("berth_schema."), spec
