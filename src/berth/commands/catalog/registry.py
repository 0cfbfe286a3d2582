"""Registries, replication policies and executions, registry DR pairs."""

from __future__ import annotations

from ..spec import Flag, Resource, action, create, crud, get, list_, update

REG_FLAGS = (
    Flag(field="url", help="https://registry.example.com"),
    Flag(field="kind", help="harbor, distribution, ..."),
    Flag(field="username"),
    Flag(field="password", help="prefer -f FILE or --set password=... from a secret store"),
    Flag(field="insecure", type="bool"),
    Flag(field="description"),
)

POLICY_FLAGS = (
    Flag(field="source", help="source registry"),
    Flag(field="destination", help="destination registry"),
    Flag(field="destination_prefix"),
    Flag(field="mode", help="push or pull"),
    Flag(field="enabled", type="bool"),
    Flag(field="filters", type="yaml", help="e.g. '[{kind: name, pattern: library/**}]'"),
    Flag(field="triggers", type="yaml", help="e.g. '[{kind: schedule, cron: \"0 * * * *\"}]'"),
)

REGISTRY = Resource(
    name="registry",
    help="container registries",
    columns=("name", "kind", "url", "health"),
    verbs=crud("/api/v1/registries", "registry", "registry", group="registry", flags=REG_FLAGS),
)

POLICY = Resource(
    name="policy",
    help="replication policies between registries",
    aliases=("replication-policy",),
    columns=("name", "source", "destination", "mode", "enabled"),
    verbs=(
        *crud("/api/v1/replication-policies", "policy", "replication policy", group="policy", flags=POLICY_FLAGS),
        action(
            "run",
            "/api/v1/replication-policies/{policy}:run",
            "run a policy now",
            flags=(Flag(field="dry_run", type="bool"), Flag(field="only", type="list", help="only these repositories")),
            example="berth policy run mirror-hub --dry-run",
        ),
    ),
)

EXECUTION = Resource(
    name="execution",
    help="replication executions",
    columns=("id", "policy", "status", "trigger", "started_at", "finished_at"),
    verbs=(
        list_(
            "/api/v1/replication-executions",
            "executions",
            flags=(Flag(field="policy", help="only this policy's"),),
            example="berth execution list --policy mirror-hub",
        ),
        get(
            "/api/v1/replication-executions/{execution}", "an execution", example="berth execution get EXEC_ID -o yaml"
        ),
        action(
            "retry",
            "/api/v1/replication-executions/{execution}:retry",
            "retry an execution's failed tasks",
            example="berth execution retry EXEC_ID",
        ),
    ),
)

PAIR = Resource(
    name="registry-pair",
    aliases=("registry-dr",),
    help="registry DR pairs: a primary, a standby, the lag between them and a switch",
    columns=("name", "primary", "standby", "active", "lag_seconds"),
    verbs=(
        get(
            "/api/v1/registry-dr-pairs/{pair}",
            "a pair with its active side and replication lag",
            example="berth registry-pair get hub-pair",
        ),
        create(
            "/api/v1/registry-dr-pairs",
            "a registry DR pair",
            flags=(Flag(field="primary"), Flag(field="standby"), Flag(field="reconcile_seconds", type="int")),
            example="berth registry-pair create hub-pair --primary hub-a --standby hub-b",
        ),
        update(
            "/api/v1/registry-dr-pairs/{pair}",
            "a registry DR pair",
            flags=(Flag(field="primary"), Flag(field="standby"), Flag(field="reconcile_seconds", type="int")),
            example="berth registry-pair update hub-pair --primary hub-a --standby hub-b",
        ),
        action(
            "switch",
            "/api/v1/registry-dr-pairs/{pair}:switch",
            "switch a pair to its other side",
            flags=(Flag(field="to", help="the side to make active"), Flag(field="reason")),
            example="berth registry-pair switch hub-pair --reason 'primary down'",
        ),
    ),
)

RESOURCES = (REGISTRY, POLICY, EXECUTION, PAIR)
