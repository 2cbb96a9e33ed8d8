"""The HTTP guards every service's app has, in the order a request meets them:

1. bearer token (shared/web/authn.py) — before a byte of the body is read;
2. rate limit per caller and route class (shared/web/rate_limit.py) — before the body and
   the database;
3. body size (shared/web/body_limit.py) — 413 before reading past the limit;
4. Idempotency-Key on POST (shared/web/idempotency_guard.py);
5. the app (routing, validation, routes).

All are plain ASGI: nothing is buffered on the way in but the body of a POST with an
Idempotency-Key, which the body limit bounds.
"""

from __future__ import annotations

from collections.abc import Collection

from fastapi import FastAPI

from shared.auth.tokens import TokenVerifier
from shared.settings import ServiceSettings
from shared.web.authn import BearerTokenGuard
from shared.web.body_limit import BodyLimitGuard, BodyLimits
from shared.web.idempotency import IdempotencyStore
from shared.web.idempotency_guard import IdempotencyGuard, document_idempotency_key
from shared.web.problem_docs import document_problems
from shared.web.rate_limit import RateLimitGuard, RateLimits

# Answered without a token: health, readiness, metrics (shared/web/ops.py) and the
# AsyncAPI document (shared/runtime.py); the OpenAPI documents are added from the app.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/asyncapi.json"})


def open_paths(app: FastAPI) -> frozenset[str]:
    documents = [app.openapi_url, app.docs_url, app.redoc_url]
    if app.docs_url:
        documents.append(app.swagger_ui_oauth2_redirect_url)
    return OPEN_PATHS | {path for path in documents if path}


def rate_limits(settings: ServiceSettings) -> RateLimits:
    return RateLimits(
        {"read": settings.rate_limit_read, "write": settings.rate_limit_write},
        storage_uri=settings.rate_limit_storage,
        strategy=settings.rate_limit_strategy,
    )


def public_prefixes(prefixes: Collection[str]) -> tuple[str, ...]:
    """Path prefixes answered without a token (e.g. `/certificates/verify/`): each names
    whole path segments — it starts and ends with `/` — and is not the root."""
    for prefix in prefixes:
        if not (prefix.startswith("/") and prefix.endswith("/") and len(prefix) > 1):
            raise ValueError(f"a public prefix starts and ends with '/': {prefix!r}")
    return tuple(prefixes)


def install_guards(
    app: FastAPI,
    settings: ServiceSettings,
    verifier: TokenVerifier,
    idempotency: IdempotencyStore,
    open_prefixes: Collection[str] = (),
) -> None:
    """`open_prefixes`: path prefixes of public routes, answered without a token. Every
    route under one answers anyone; with no caller there is no per-caller rate limit either,
    so only cheap lookups by an unguessable key belong there."""
    # Starlette wraps in reverse: the middleware added last is the one a request meets first.
    app.add_middleware(IdempotencyGuard, store=idempotency)
    limits = BodyLimits(settings.http_max_body_bytes, settings.http_body_limits)
    app.add_middleware(BodyLimitGuard, limits=limits)
    if settings.rate_limit_enabled:
        app.add_middleware(RateLimitGuard, limits=rate_limits(settings))
    public = public_prefixes(open_prefixes)
    app.add_middleware(
        BearerTokenGuard, verifier=verifier, open_paths=open_paths(app), open_prefixes=public
    )
    document_idempotency_key(app, settings.idempotency_ttl_hours)
    # After the header above: the guards' answers are the operations' problem statuses.
    document_problems(
        app,
        lambda path: path.startswith(public),
        rate_limited=settings.rate_limit_enabled,
        skip=open_paths(app),
    )
