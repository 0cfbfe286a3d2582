"""What the gateway keeps itself: tenants and their limits, members, API tokens, operations, audit."""

from __future__ import annotations

from ..spec import Flag, Resource, create, delete, get, list_, update, write

T = "/api/v1/tenants/{tenant}"

TENANT = Resource(
    name="tenant",
    help="tenants and their limits",
    columns=("name", "display_name"),
    verbs=(
        list_("/api/v1/tenants", "tenants", example="berth tenant list"),
        get(T, "a tenant", example="berth tenant get acme"),
        create(
            "/api/v1/tenants",
            "a tenant",
            flags=(Flag(field="display_name"),),
            example="berth tenant create acme --display-name 'ACME Corp'",
        ),
        get(
            f"{T}/limits",
            "a tenant's limits, usage and what remains",
            name="limits",
            item="tenant",
            example="berth tenant limits acme -o yaml",
        ),
        update(
            f"{T}/limits",
            "a tenant's limits",
            name="set-limits",
            item="tenant",
            flags=(
                Flag(field="clusters", type="int"),
                Flag(field="nodes", type="int"),
                Flag(field="namespaces_per_cluster", type="int"),
            ),
            example="berth tenant set-limits acme --clusters 5 --nodes 100",
        ),
    ),
)

MEMBER = Resource(
    name="member",
    help="who may do what in a tenant (the tenant is --tenant, else the saved one)",
    columns=("user", "group", "role", "namespace"),
    verbs=(
        list_(f"{T}/members", "a tenant's members", example="berth member list --tenant acme"),
        create(
            f"{T}/members",
            "a role binding",
            name_field="user",
            flags=(
                Flag(field="role", help="tenant-admin, developer, viewer, ..."),
                Flag(field="group", help="bind a group instead of a user"),
                Flag(field="namespace", help="only this namespace"),
            ),
            example="berth member create alice --role developer --tenant acme",
            aliases=("add",),
        ),
        delete(
            f"{T}/members/{{user}}",
            "a user's bindings in the tenant",
            example="berth member delete alice",
            aliases=("remove",),
        ),
        delete(
            f"{T}/groups/{{group}}",
            "a group's bindings in the tenant",
            name="delete-group",
            example="berth member delete-group oncall",
        ),
    ),
)

TOKEN = Resource(
    name="token",
    help="your API tokens",
    columns=("id", "name", "expires_at", "created_at"),
    verbs=(
        list_("/api/v1/tokens", "your API tokens", example="berth token list"),
        create(
            "/api/v1/tokens",
            "an API token (shown once)",
            flags=(Flag(field="expires_in_days", type="int"),),
            example="berth token create ci --expires-in-days 30 -o json",
        ),
        delete(
            "/api/v1/tokens/{token}",
            "an API token (revoke it)",
            example="berth token delete TOKEN_ID",
            aliases=("revoke",),
        ),
    ),
)

OPERATION = Resource(
    name="operation",
    help="long-running operations (what a 202 answer names)",
    columns=("id", "kind", "target", "state", "message"),
    verbs=(
        get(
            "/api/v1/operations/{operation}", "an operation and its steps", example="berth operation get OP_ID -o yaml"
        ),
    ),
)

AUDIT = Resource(
    name="audit",
    help="the audit log of every change",
    columns=("time", "user", "action", "target", "status"),
    verbs=(list_("/api/v1/audit", "audit records", example="berth audit list -o json"),),
)

SERVICE = Resource(
    name="service",
    help="the platform's services and whether they answer",
    columns=("name", "status", "version", "error"),
    verbs=(list_("/api/v1/services", "services", example="berth service list"),),
)

CHAT_BINDING = Resource(
    name="chat-binding",
    help="bind a chat user (DingTalk, Feishu, Slack) to a Berth user for chat commands",
    columns=("platform", "chat_user", "user", "tenant"),
    verbs=(
        write(
            "create",
            "POST",
            "/api/v1/chat-bindings",
            "bind a chat user to a Berth user",
            flags=(
                Flag(field="platform", choices=("dingtalk", "feishu", "slack")),
                Flag(field="chat_user"),
                Flag(field="user"),
            ),
            body=True,
            example="berth chat-binding create --platform slack --chat-user U123 --user alice",
        ),
    ),
)

RESOURCES = (TENANT, MEMBER, TOKEN, OPERATION, AUDIT, SERVICE, CHAT_BINDING)
