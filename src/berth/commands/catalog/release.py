"""Releases, templates and configs (release-orchestrator)."""

from __future__ import annotations

from ..spec import Flag, Resource, action, create, crud, get, list_

REL = "/api/v1/releases"

RELEASE = Resource(
    name="release",
    help="releases: deployments of a template with a strategy (rolling, canary, blue-green)",
    columns=("name", "cluster", "namespace", "phase", "strategy.kind", "revision"),
    verbs=(
        list_(
            REL,
            "releases",
            flags=(Flag(field="cluster"), Flag(field="namespace"), Flag(field="phase")),
            example="berth release list --cluster demo --phase Progressing",
        ),
        get(f"{REL}/{{release}}", "a release", example="berth release get web -o yaml"),
        create(
            REL,
            "a release",
            flags=(
                Flag(field="cluster"),
                Flag(field="namespace"),
                Flag(field="template"),
                Flag(field="environment"),
                Flag(field="workload", type="yaml"),
                Flag(field="strategy", type="yaml"),
                Flag(field="values", type="yaml"),
            ),
            example="berth release create web --cluster demo --namespace shop -f release.yaml",
        ),
        action(
            "promote",
            f"{REL}/{{release}}:promote",
            "promote a canary to its next step (or --full)",
            flags=(Flag(field="full", type="bool"),),
            example="berth release promote web --full",
        ),
        action(
            "rollback",
            f"{REL}/{{release}}:rollback",
            "roll a release back",
            flags=(Flag(field="to_revision", type="int"), Flag(field="reason")),
            example="berth release rollback web --to-revision 3",
        ),
        action(
            "abort",
            f"{REL}/{{release}}:abort",
            "abort a release in progress (rolls it back)",
            flags=(Flag(field="reason"),),
            example="berth release abort web --reason 'error rate'",
        ),
    ),
)

TEMPLATE_FLAGS = (
    Flag(field="kind"),
    Flag(field="visibility", choices=("private", "public")),
    Flag(field="description"),
    Flag(field="chart", type="yaml"),
    Flag(field="workload", type="yaml"),
)

TEMPLATE = Resource(
    name="template",
    help="release templates (private or public; a new version each save)",
    columns=("name", "version", "kind", "visibility", "description"),
    verbs=crud("/api/v1/templates", "template", "template", group="template", flags=TEMPLATE_FLAGS),
)

CFG = "/api/v1/configs"
CONFIG_FLAGS = (
    Flag(field="app"),
    Flag(field="environment"),
    Flag(field="cluster"),
    Flag(field="namespace"),
    Flag(field="kind", choices=("ConfigMap", "Secret")),
    Flag(field="data", type="map", help="key=value (repeatable)"),
    Flag(field="labels", type="map"),
    Flag(field="description"),
    Flag(field="restart", type="bool", help="restart the workloads that use it"),
)
ENV = Flag(field="environment")

CONFIG = Resource(
    name="config",
    help="versioned configs (ConfigMap or Secret) per app and environment",
    columns=("name", "app", "environment", "kind", "version", "cluster", "namespace"),
    verbs=(
        list_(
            CFG,
            "configs",
            flags=(ENV, Flag(field="app"), Flag(field="cluster")),
            example="berth config list --environment prod",
        ),
        get(f"{CFG}/{{config}}", "a config", flags=(ENV,), example="berth config get web-env --environment prod"),
        create(
            CFG,
            "a config (its first version)",
            flags=CONFIG_FLAGS,
            example="berth config create web-env --app web --environment prod --cluster demo --namespace shop "
            "--data LOG_LEVEL=info",
        ),
        *crud(CFG, "config", "config", group="config", flags=CONFIG_FLAGS)[3:4],
        get(
            f"{CFG}/{{config}}/history",
            "a config's versions: who wrote each, when, what changed",
            name="history",
            item="config",
            flags=(ENV,),
            columns=("version", "by", "at", "summary"),
            example="berth config history web-env --environment prod",
        ),
        get(
            f"{CFG}/{{config}}/diff",
            "what changed between two versions",
            name="diff",
            item="config",
            flags=(ENV, Flag(field="from", type="int"), Flag(field="to", type="int")),
            example="berth config diff web-env --environment prod --from 1 --to 2",
        ),
        action(
            "rollback",
            f"{CFG}/{{config}}:rollback",
            "write an earlier version again",
            flags=(ENV, Flag(field="to_version", type="int"), Flag(field="restart", type="bool")),
            example="berth config rollback web-env --environment prod --to-version 1",
        ),
    ),
)

RESOURCES = (RELEASE, TEMPLATE, CONFIG)
