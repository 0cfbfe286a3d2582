"""The public HTTP app of the gateway: API, OpenAPI document, hooks and the console."""

from __future__ import annotations

import ssl
from pathlib import Path

import berth_schema
from aiohttp import web

from .context import GATEWAY_KEY, Gateway, authenticate, problems_and_audit
from .local import add_local_routes
from .openapi import build_openapi
from .operations import OperationTracker
from .proxy import handler_for
from .routes import PATH_PARAM_PATTERN, ROUTES
from .settings import GatewaySettings
from .sse import stream_events

STATIC = Path(__file__).parent / "console" / "static"
TRACKER_KEY = web.AppKey("tracker", OperationTracker)


def aiohttp_path(path: str) -> str:
    """``/clusters/{cluster}:upgrade`` → ``/clusters/{cluster:<name regex>}:upgrade``."""
    import re

    return re.sub(r"{(\w+)}", lambda mt: "{" + mt.group(1) + ":" + PATH_PARAM_PATTERN + "}", path)


def build_app(gateway: Gateway, *, track_operations: bool = True) -> web.Application:
    app = web.Application(
        middlewares=[problems_and_audit, authenticate], client_max_size=gateway.settings.max_body_bytes
    )
    app[GATEWAY_KEY] = gateway
    assert berth_schema.DOMAINS  # the schema registers every command the routes send
    document = build_openapi()

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(document)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    add_local_routes(app)
    app.router.add_get("/api/v1/events", stream_events)
    for route in ROUTES:
        app.router.add_route(route.method, aiohttp_path(route.path), handler_for(route), name=None)
    from .hooks import add_hook_routes

    add_hook_routes(app)
    if STATIC.is_dir():

        async def index(_: web.Request) -> web.FileResponse:
            return web.FileResponse(STATIC / "index.html")

        app.router.add_get("/", index)
        app.router.add_static("/static/", STATIC)

    if track_operations:
        tracker = OperationTracker(gateway.backend, gateway.operations)
        app[TRACKER_KEY] = tracker

        async def start_tracker(_: web.Application) -> None:
            tracker.start()

        async def stop_tracker(_: web.Application) -> None:
            await tracker.stop()

        app.on_startup.append(start_tracker)
        app.on_cleanup.append(stop_tracker)
    return app


class TlsSettingsError(ValueError):
    """The gateway's TLS settings do not say how to serve: it refuses to start."""


def server_ssl_context(settings: GatewaySettings) -> ssl.SSLContext | None:
    """The TLS context the API is served with (TLS 1.2+), or None for plain HTTP when
    ``BERTH_GATEWAY_INSECURE_HTTP=true`` explicitly asks for it; otherwise a TlsSettingsError."""
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if cert is None and key is None:
        if settings.insecure_http:
            return None
        raise TlsSettingsError(
            "the gateway serves HTTPS only: set BERTH_GATEWAY_TLS_CERT_FILE and BERTH_GATEWAY_TLS_KEY_FILE "
            "(PEM files), or BERTH_GATEWAY_INSECURE_HTTP=true for plain HTTP in local development"
        )
    if cert is None or key is None:
        missing = "BERTH_GATEWAY_TLS_CERT_FILE" if cert is None else "BERTH_GATEWAY_TLS_KEY_FILE"
        given = "BERTH_GATEWAY_TLS_KEY_FILE" if cert is None else "BERTH_GATEWAY_TLS_CERT_FILE"
        raise TlsSettingsError(f"{given} is set but {missing} is not: HTTPS needs both PEM files")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile=cert, keyfile=key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSettingsError(
            f"cannot load the gateway's TLS certificate {cert} with key {key} "
            f"(BERTH_GATEWAY_TLS_CERT_FILE / BERTH_GATEWAY_TLS_KEY_FILE): {exc}"
        ) from None
    return context
