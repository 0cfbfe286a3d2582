"""What a route is: the service and the query op or command verb behind an HTTP path, the least
role it needs, and how its body maps onto the message (the table itself is in routes.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

# call: a synchronous query that changes something; its reply is the result (a join token's
# secret goes back to the caller alone instead of travelling through a stream as a command would)
Kind = Literal["list", "get", "command", "call"]

CM, NM, RS, RO, MA, DR = (
    "cluster-manager",
    "node-manager",
    "registry-sync",
    "release-orchestrator",
    "monitor-alert",
    "dr-switcher",
)
C = "/api/v1/clusters/{cluster}"


@dataclass(frozen=True, kw_only=True)
class Route:
    method: str
    path: str
    kind: Kind
    service: str
    op: str  # query op (list/get) or command verb
    role: str
    tag: str
    summary: str
    # a gateway form for a body the schema still carries as an untyped dict; otherwise the body
    # comes from the command or typed query request in the schema (see bodies.py)
    body: type[BaseModel] | None = None
    target: str = ""  # envelope subject / operation target, formatted with path params and body fields
    done: tuple[str, ...] | None = None  # fact names that complete the operation
    key: str = "name"  # the field lists are ordered and paged by
    filters: tuple[str, ...] = field(default=())  # query parameters passed through to list ops
    rename: tuple[tuple[str, str], ...] = ()  # path param -> the service's field name
    wrap: str = ""  # the command nests the body under this field (put-registry: {"registry": {...}})
    wrap_tenant: bool = True  # the nested body carries the tenant too (when its model has the field)
    via_list: str = ""  # get: the service has no get op; find the item in this list op by ``key``
    confirm: str = ""  # command without a completing fact: this list op shows the target once applied
    confirm_param: str = ""  # confirm asks a get op instead, naming the target with this field
    validate: str = ""  # command: a query of the service that checks the body first (the form's rules)
    items_from: str = ""  # list: the items are this field of a get op's reply (a cluster's timeline)
    # path param -> field of the wrapped body it also sets (PUT /channels/{channel}: channel.name)
    inner: tuple[tuple[str, str], ...] = ()
    fixed: tuple[tuple[str, Any], ...] = ()  # command fields this route always sets (:expire sets expire)
    # get: (service, get op) that must show the path's item in the caller's tenant first, for ops
    # that answer for any name (render-rules renders any cluster's rules)
    owner: tuple[str, str] | None = None
    status: int = 0  # call: the success status (0: 201 for POST, else 200)
    grant: bool = False  # call: a credential for the caller (user is the caller, role at most theirs; grants.py)
    caller_field: str = ""  # get: the query field the caller's user id goes in (who a credential is released to)

    @property
    def name(self) -> str:
        return f"{self.service}.{self.op}"

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def _list(
    path: str, svc: str, op: str, tag: str, summary: str, *, key: str = "name", filters: tuple[str, ...] = ()
) -> Route:
    return Route(
        method="GET",
        path=path,
        kind="list",
        service=svc,
        op=op,
        role="viewer",
        tag=tag,
        summary=summary,
        key=key,
        filters=filters,
    )


def _get(
    path: str,
    svc: str,
    op: str,
    tag: str,
    summary: str,
    *,
    via_list: str = "",
    key: str = "name",
    rename: tuple[tuple[str, str], ...] = (),
    filters: tuple[str, ...] = (),
    owner: tuple[str, str] | None = None,
    role: str = "viewer",
) -> Route:
    return Route(
        method="GET",
        path=path,
        kind="get",
        service=svc,
        op=op,
        role=role,
        tag=tag,
        summary=summary,
        via_list=via_list,
        key=key,
        rename=rename,
        filters=filters,
        owner=owner,
    )


def _cmd(
    method: str,
    path: str,
    svc: str,
    verb: str,
    tag: str,
    summary: str,
    *,
    role: str,
    target: str,
    body: type[BaseModel] | None = None,
    done: tuple[str, ...] | None = None,
    rename: tuple[tuple[str, str], ...] = (),
    wrap: str = "",
    wrap_tenant: bool = True,
    confirm: str = "",
    confirm_param: str = "",
    validate: str = "",
    key: str = "name",
    inner: tuple[tuple[str, str], ...] = (),
    fixed: tuple[tuple[str, Any], ...] = (),
) -> Route:
    return Route(
        validate=validate,
        wrap_tenant=wrap_tenant,
        rename=rename,
        wrap=wrap,
        confirm=confirm,
        confirm_param=confirm_param,
        method=method,
        path=path,
        kind="command",
        service=svc,
        op=verb,
        role=role,
        tag=tag,
        summary=summary,
        body=body,
        target=target,
        done=done,
        key=key,
        inner=inner,
        fixed=fixed,
    )


def _call(
    method: str,
    path: str,
    svc: str,
    op: str,
    tag: str,
    summary: str,
    *,
    role: str,
    status: int = 0,
    grant: bool = False,
) -> Route:
    return Route(
        method=method,
        path=path,
        kind="call",
        service=svc,
        op=op,
        role=role,
        tag=tag,
        summary=summary,
        status=status,
        grant=grant,
    )
