"""The rate-limit guard: each caller (token subject and org) has its own budget per route
class; a request over it gets 429 with `Retry-After` before its body is read or the
database is touched, so one caller's burst costs others almost nothing.

Counting is the `limits` package's (async API). Its storage is in memory by default, one
budget per process; a `redis://` storage URI shares the budgets between replicas.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import STRATEGIES, RateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.web.asgi import principal_of, send_problem
from shared.web.problems import TooManyRequests

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def route_class(method: str) -> str:
    """`read` for what only looks, `write` for what may change something."""
    return "read" if method in READ_METHODS else "write"


def async_storage_uri(uri: str) -> str:
    """`memory://` and `redis://…` name the async storages of `limits` as `async+…`."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimits:
    """Budgets per route class, e.g. ``{"read": "1200/minute", "write": "300/minute"}``
    (`limits` notation; several limits for one class are separated by `;`)."""

    def __init__(
        self,
        budgets: Mapping[str, str],
        storage_uri: str = "memory://",
        strategy: str = "moving-window",
    ) -> None:
        self.items: dict[str, list[RateLimitItem]] = {
            name: parse_many(spec) for name, spec in budgets.items()
        }
        storage = storage_from_string(async_storage_uri(storage_uri))
        if not isinstance(storage, Storage):
            raise ValueError("the rate limit storage must be one of the async storages")
        limiter: Callable[[Storage], RateLimiter] = STRATEGIES[strategy]
        self.limiter = limiter(storage)

    async def retry_after(self, route: str, caller: str) -> int | None:
        """Take one request from the caller's budget for `route`: None if it fits, else how
        many whole seconds until it would."""
        for item in self.items.get(route, []):
            if not await self.limiter.hit(item, route, caller):
                stats = await self.limiter.get_window_stats(item, route, caller)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None


class RateLimitGuard:
    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = principal_of(scope) if scope["type"] == "http" else None
        if principal is None:  # open endpoints (health, metrics, documents)
            await self.app(scope, receive, send)
            return
        route = route_class(scope["method"])
        try:
            wait = await self.limits.retry_after(route, principal.caller_key)
        except Exception as exc:
            # A shared storage that is down must not take the API down with it.
            log.warning("rate limit storage unavailable: %s", type(exc).__name__)
            wait = None
        if wait is not None:
            problem = TooManyRequests(f"too many {route} requests; retry in {wait} s")
            await send_problem(scope, receive, send, problem, [("Retry-After", str(wait))])
            return
        await self.app(scope, receive, send)
