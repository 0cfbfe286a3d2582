"""DR groups and their switches (dr-switcher)."""

from __future__ import annotations

from ..spec import Flag, Resource, action, crud, list_

G = "/api/v1/dr-groups/{group}"
REASON = Flag(field="reason", help="why (kept with the switch)")

DR_FLAGS = (
    Flag(field="primary", type="yaml", help="the primary site, e.g. '{cluster: east}'"),
    Flag(field="standby", type="yaml", help="the standby site"),
    Flag(field="description"),
    Flag(field="auto_failover", type="bool"),
    Flag(field="auto_failback", type="bool"),
    Flag(field="depends_on", type="list", help="groups that switch first"),
    Flag(field="probe", type="yaml"),
    Flag(field="dns", type="yaml"),
    Flag(field="witness", type="yaml"),
)

DR = Resource(
    name="dr",
    aliases=("dr-group",),
    help="DR groups: switchover, failback, drills, resume and rollback of a stopped plan",
    columns=("name", "active", "phase", "primary.cluster", "standby.cluster"),
    verbs=(
        *crud("/api/v1/dr-groups", "group", "DR group", group="dr", flags=DR_FLAGS),
        action(
            "switchover",
            f"{G}:switchover",
            "switch over to the peer site",
            flags=(REASON, Flag(field="to"), Flag(field="force", type="bool")),
            example="berth dr switchover shop --reason 'east maintenance'",
            timeout=1800,
        ),
        action(
            "failback",
            f"{G}:failback",
            "fail back to the primary site",
            flags=(REASON, Flag(field="force", type="bool")),
            example="berth dr failback shop --reason recovered",
            timeout=1800,
        ),
        action(
            "drill",
            f"{G}:drill",
            "run a DR drill (switch, check, switch back)",
            flags=(REASON, Flag(field="duration_seconds", type="int")),
            example="berth dr drill shop --reason 'quarterly drill'",
            timeout=1800,
        ),
        action(
            "resume",
            f"{G}:resume",
            "resume a stopped switch plan from the step that failed",
            flags=(REASON, Flag(field="plan")),
            example="berth dr resume shop --reason 'db back'",
            timeout=1800,
        ),
        action(
            "rollback",
            f"{G}:rollback",
            "roll back a stopped switch plan",
            flags=(REASON, Flag(field="plan")),
            example="berth dr rollback shop --reason abandon",
            timeout=1800,
        ),
        list_(
            f"{G}/switch-history",
            "the group's switches, newest first",
            name="history",
            item="group",
            columns=("id", "kind", "outcome", "trigger", "started_at", "seconds"),
            example="berth dr history shop",
        ),
    ),
)

RESOURCES = (DR,)
