"""The collections registry-sync owns and how keys are made."""

from __future__ import annotations

from typing import Any

from berth_common.sealing import SealerSlot
from berth_common.store import Store
from berth_schema.registry.dr import DrState
from berth_schema.registry.policies import PolicySpec
from berth_schema.registry.registries import RegistrySpec

from .domain.executions import Execution

REGISTRIES = "registries"
SECRETS = "registry-secrets"  # passwords; never published, never returned by a query
POLICIES = "replication-policies"
EXECUTIONS = "replication-executions"
DR_PAIRS = "registry-dr-pairs"
PUSHES = "registry-pushes"  # one record per ingested webhook: idempotency and the image-pushed facts
COLLECTIONS = [REGISTRIES, SECRETS, POLICIES, EXECUTIONS, DR_PAIRS, PUSHES]


def key(tenant: str, name: str) -> str:
    return f"{tenant}/{name}"


class NotDefined(LookupError):
    """A policy, registry, execution or DR pair that does not exist (the message names it)."""


SEALER = SealerSlot("registry-sync")


def sealed_secret(spec: RegistrySpec) -> dict[str, Any]:
    password = spec.secret()["password"]
    return {"password": SEALER.get().seal(password) if password is not None else None}


async def load_registry(store: Store, tenant: str, name: str) -> RegistrySpec:
    rec = await store.collection(REGISTRIES).get(key(tenant, name))
    if rec is None:
        raise NotDefined(f"registry {tenant}/{name} not found")
    secret = await store.collection(SECRETS).get(key(tenant, name))
    opened = None
    if secret is not None and secret.data.get("password") is not None:
        opened = {"password": SEALER.get().unseal(secret.data["password"])}
    return RegistrySpec.restore(rec.data, opened)


async def load_policy(store: Store, tenant: str, name: str) -> tuple[PolicySpec, dict[str, Any]]:
    rec = await store.collection(POLICIES).get(key(tenant, name))
    if rec is None:
        raise NotDefined(f"replication policy {tenant}/{name} not found")
    return PolicySpec.model_validate(rec.data["spec"]), rec.data


async def load_execution(store: Store, tenant: str, execution_id: str) -> Execution:
    rec = await store.collection(EXECUTIONS).get(execution_id)
    if rec is None or rec.data.get("tenant") != tenant:
        raise NotDefined(f"execution {execution_id} not found in tenant {tenant}")
    return Execution.model_validate(rec.data)


async def load_dr(store: Store, tenant: str, name: str) -> DrState:
    rec = await store.collection(DR_PAIRS).get(key(tenant, name))
    if rec is None:
        raise NotDefined(f"registry DR pair {tenant}/{name} not found")
    return DrState.model_validate(rec.data)
