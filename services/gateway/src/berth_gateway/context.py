"""Per-request plumbing: request ids, problem answers, authentication, rate limits, audit."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from berth_common.events import Registry
from berth_common.events import registry as default_registry
from berth_common.store import InvalidInput, Store
from pydantic import BaseModel, ValidationError

from .audit import AuditLog, RefusalDigest
from .auth.bindings import Directory
from .auth.oidc import OidcError, OidcVerifier
from .auth.principal import ALL_TENANTS, Binding, Principal
from .auth.ratelimit import RateLimiter
from .auth.tokens import TokenBook
from .backend import Backend
from .hooks.replay import ReplayBook
from .idempotency import IdempotencyBook
from .jsonbody import loads, strict
from .models import NAME_PATTERN
from .operations import Operations
from .problems import ApiError, invalid, problem_response
from .settings import GatewaySettings

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC_PREFIXES = ("/openapi.json", "/healthz", "/hooks/", "/static/")


@dataclass
class Gateway:
    """Everything a handler needs; one per gateway process."""

    backend: Backend
    store: Store
    settings: GatewaySettings
    tokens: TokenBook
    directory: Directory
    audit: AuditLog
    idempotency: IdempotencyBook
    operations: Operations
    limiter: RateLimiter
    anonymous: RateLimiter  # per client address, charged by refusals of unauthenticated callers
    digest: RefusalDigest
    replay: ReplayBook
    oidc: OidcVerifier | None
    admin_digest: bytes | None
    registry: Registry

    @classmethod
    def build(
        cls, *, backend: Backend, store: Store, settings: GatewaySettings, registry: Registry = default_registry
    ) -> Gateway:
        oidc = None
        if settings.oidc_jwks_url:
            oidc = OidcVerifier(
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience,
                jwks_url=settings.oidc_jwks_url,
                user_claim=settings.oidc_user_claim,
                groups_claim=settings.oidc_groups_claim,
            )
        admin = settings.admin_token.get_secret_value() if settings.admin_token else ""
        return cls(
            backend=backend,
            store=store,
            settings=settings,
            tokens=TokenBook(store),
            directory=Directory(store),
            audit=AuditLog(store),
            idempotency=IdempotencyBook(store),
            operations=Operations(store),
            limiter=RateLimiter(rate=settings.rate_per_second, burst=settings.rate_burst),
            anonymous=RateLimiter(rate=settings.anon_rate_per_second, burst=settings.anon_rate_burst),
            digest=RefusalDigest(),
            replay=ReplayBook(store),
            oidc=oidc,
            admin_digest=hashlib.sha256(admin.encode()).digest() if admin else None,
            registry=registry,
        )

    async def principal_for(self, token: str) -> Principal:
        if self.admin_digest is not None and hmac.compare_digest(
            hashlib.sha256(token.encode()).digest(), self.admin_digest
        ):
            return Principal(user="admin", via="admin", key="admin", bindings=(Binding(ALL_TENANTS, "platform-admin"),))
        if self.oidc is not None and OidcVerifier.looks_like_jwt(token):
            try:
                who = await self.oidc.verify(token)
            except OidcError as exc:
                raise ApiError(401, str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
            bindings = await self.directory.bindings_of(who.user, who.groups)
            return Principal(user=who.user, via="oidc", key=f"oidc:{who.user}", bindings=bindings)
        found = await self.tokens.verify(token)
        if found is None:
            raise ApiError(
                401,
                "the bearer token is unknown, expired or revoked",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        user, token_id = found
        bindings = await self.directory.bindings_of(user)
        return Principal(user=user, via="token", key=f"token:{token_id}", bindings=bindings)

    async def principal_of_user(self, user: str) -> Principal:
        return Principal(user=user, via="chat", key=f"chat:{user}", bindings=await self.directory.bindings_of(user))


GATEWAY_KEY = web.AppKey("gateway", Gateway)
REQUEST_ID = web.RequestKey("request_id", str)
PRINCIPAL = web.RequestKey("principal", Principal)
TENANT = web.RequestKey("tenant", str)
ACTION = web.RequestKey("action", str)
AUDIT_DETAIL = web.RequestKey("audit_detail", str)  # what a successful call's audit row says
HOOK_CALLER = web.RequestKey("hook_caller", str)  # set once a hook request proved who sent it


def gw(request: web.Request) -> Gateway:
    return request.app[GATEWAY_KEY]


def principal(request: web.Request) -> Principal:
    p = request.get(PRINCIPAL)
    if not isinstance(p, Principal):
        raise ApiError(401, "authentication required: send Authorization: Bearer <token>")
    return p


@web.middleware
async def problems_and_audit(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
    request[REQUEST_ID] = rid
    status, detail = 500, ""
    try:
        resp = await handler(request)
        status = resp.status
    except ApiError as err:
        status, detail = err.status, err.detail
        resp = problem_response(err, instance=request.path, request_id=rid)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status = exc.status
        http_err = _http_error(request, exc)
        detail = http_err.detail
        resp = problem_response(http_err, instance=request.path, request_id=rid)
    except InvalidInput as exc:
        # the last line of defence: input the models let through but the store refuses
        status, detail = 400, str(exc)[:300]
        resp = problem_response(ApiError(400, f"invalid input: {detail}"), instance=request.path, request_id=rid)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        status, detail = 500, "internal error"
        resp = problem_response(ApiError(500, f"internal error; quote request id {rid}"), request_id=rid)
    if not resp.prepared:
        resp.headers["X-Request-Id"] = rid
    g = gw(request)
    if status >= 400 and not _authenticated(request):
        g.anonymous.take(client_address(request))
    path = request.path
    if path.startswith("/hooks/") or (
        path.startswith("/api/")
        and (request.method in MUTATING or status in (401, 403) or (status == 429 and not _authenticated(request)))
    ):
        await _audit(request, status, detail)
    for key, count in g.digest.due():
        await _audit_summary(request, key, count)
    return resp


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"


def _authenticated(request: web.Request) -> bool:
    return isinstance(request.get(PRINCIPAL), Principal) or bool(request.get(HOOK_CALLER))


def refusal(request: web.Request, err: ApiError) -> ApiError:
    """The answer to a caller who did not authenticate: ``err``, or 429 once the caller's address
    used up its allowance of refused requests. Callers who do authenticate are never limited by
    their address (many may share one behind a proxy or NAT)."""
    g = gw(request)
    wait = g.anonymous.peek(client_address(request))
    if wait <= 0:
        return err
    return ApiError(
        429,
        f"too many refused requests from this address (at most {g.settings.anon_rate_per_second:g}/s, "
        f"burst {g.settings.anon_rate_burst}); {err.detail}",
        headers={"Retry-After": RateLimiter.retry_after(wait)},
    )


def _http_error(request: web.Request, exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return ApiError(404, f"no resource at {request.path}")
    if exc.status == 405:
        allowed = sorted(getattr(exc, "allowed_methods", set()) or [])
        return ApiError(
            405,
            f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    if exc.status == 413:
        return ApiError(413, f"request body exceeds {request.app[GATEWAY_KEY].settings.max_body_bytes} bytes")
    return ApiError(exc.status, exc.text or exc.reason)


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return f"{request.method} {resource.canonical if resource is not None else request.path}"


async def _audit(request: web.Request, status: int, detail: str) -> None:
    g = gw(request)
    p = request.get(PRINCIPAL)
    hook = request.path.startswith("/hooks/")
    if not _authenticated(request) and status >= 400:
        # unauthenticated refusals: the first per address and kind in a window, the rest counted
        kind = "hook:" + request.path.removeprefix("/hooks/") if hook else "api"
        suppressed = g.digest.admit((client_address(request), kind, status))
        if suppressed is None:
            return
        if suppressed:
            detail = f"{detail} ({suppressed} similar refusals from this address suppressed in the last window)"
    user: str
    via: str
    if isinstance(p, Principal):
        user, via = p.user, p.via
    elif request.get(HOOK_CALLER):
        user, via = str(request[HOOK_CALLER]), "hook"
    else:
        user, via = "anonymous", "none"
    if status < 400:
        detail = str(request.get(AUDIT_DETAIL) or "")
    try:
        await g.audit.record(
            user=user,
            via=via,
            tenant=str(request.get(TENANT) or ""),
            method=request.method,
            path=request.path,
            action=str(request.get(ACTION) or _route_name(request)),
            status=status,
            request_id=request[REQUEST_ID],
            detail=detail,
            client=client_address(request),
        )
    except Exception:
        log.exception("writing the audit record failed")


async def _audit_summary(request: web.Request, key: tuple[str, str, int], count: int) -> None:
    client, kind, status = key
    try:
        await gw(request).audit.record(
            user="anonymous",
            via="none",
            tenant="",
            method="",
            path="",
            action=f"refused {kind} (summary)",
            status=status,
            request_id="",
            detail=f"{count} more refusals ({status}) of unauthenticated {kind} requests from {client}",
            client=client,
        )
    except Exception:
        log.exception("writing the audit summary failed")


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if not path.startswith("/api/") or path == "/api/v1/openapi.json":
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        token = request.query.get("access_token", "") if path == "/api/v1/events" else ""
        if not token:
            err = ApiError(
                401,
                "authentication required: send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
            raise refusal(request, err)
    g = gw(request)
    try:
        p = await g.principal_for(token.strip())
    except ApiError as err:
        raise refusal(request, err) from None
    request[PRINCIPAL] = p
    wait = g.limiter.take(p.key)
    if wait > 0:
        raise ApiError(
            429,
            f"rate limit of {g.settings.rate_per_second:g} requests/s (burst {g.settings.rate_burst}) exceeded",
            headers={"Retry-After": RateLimiter.retry_after(wait)},
        )
    return await handler(request)


_NAME = re.compile(NAME_PATTERN)


def resolve_tenant(request: web.Request, p: Principal, *, required: bool) -> str | None:
    """The tenant a call acts in: the path's {tenant}, X-Berth-Tenant / ?tenant=, else the
    caller's only tenant."""
    asked = request.headers.get("X-Berth-Tenant") or request.query.get("tenant") or ""
    in_path = request.match_info.get("tenant", "")
    if in_path and asked and asked != in_path:
        raise ApiError(
            422,
            f"the path names tenant {in_path} but the request asks for {asked}",
            errors=[{"field": "tenant", "message": "differs from the tenant in the path"}],
        )
    explicit = in_path or asked
    if explicit:
        if not _NAME.match(explicit) or len(explicit) > 63:
            raise ApiError(
                400,
                f"tenant {explicit!r} is not a valid name",
                errors=[{"field": "tenant", "message": "must be a DNS label"}],
            )
        request[TENANT] = explicit  # a refusal is audited with the tenant that was asked for
        if not p.is_platform_admin and explicit not in p.tenants():
            raise ApiError(403, f"{p.user} has no role in tenant {explicit}")
        return explicit
    mine = p.tenants()
    if not p.is_platform_admin and len(mine) == 1:
        request[TENANT] = mine[0]
        return mine[0]
    if p.is_platform_admin and not required:
        return None
    if not mine and not p.is_platform_admin:
        raise ApiError(403, f"{p.user} has no role in any tenant")
    raise ApiError(
        422,
        "say which tenant with the X-Berth-Tenant header or ?tenant=",
        errors=[{"field": "tenant", "message": "required"}],
    )


def require(p: Principal, role: str, tenant: str | None, namespace: str = "") -> None:
    if tenant is None:
        if not p.is_platform_admin:
            raise ApiError(403, f"{p.user} is not a platform-admin")
        return
    if not p.can(role, tenant, namespace):
        where = f"tenant {tenant}" + (f" namespace {namespace}" if namespace else "")
        raise ApiError(403, f"{p.user} needs role {role} (or higher) in {where}")


async def read_json(request: web.Request) -> Any:
    if not request.body_exists:
        return None
    ctype = request.content_type
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise ApiError(415, f"send the body as application/json, not {ctype or 'no content type'}")
    raw = await request.read()
    if not raw.strip():
        return None
    return loads(raw)


async def read_model(request: web.Request, model: type[M]) -> M:
    """The body as ``model`` (strict: a boolean never passes as an integer; unknown fields are
    refused by the gateway's models)."""
    data = await read_json(request)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ApiError(422, "the body must be a JSON object", errors=[{"field": "body", "message": "object"}])
    try:
        return strict(model, data)
    except ValidationError as exc:
        raise invalid(exc) from None
