"""The bearer-token guard: the first thing every protected request meets.

It verifies the token before a byte of the body is read, so a caller without a valid token
cannot make this process receive, buffer or parse anything. The verified caller goes into
the request's scope, where the rate limiter and `current_principal` find it.
"""

from __future__ import annotations

from collections.abc import Collection

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth.dependencies import authenticate
from shared.auth.principal import Principal
from shared.auth.tokens import TokenVerifier
from shared.web.asgi import PRINCIPAL, header, send_problem
from shared.web.problems import Unauthorized


class BearerTokenGuard:
    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        open_paths: Collection[str],
        open_prefixes: Collection[str] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.open_paths = frozenset(open_paths)
        self.open_prefixes = tuple(open_prefixes)

    def is_open(self, scope: Scope) -> bool:
        """Answered without a token: an open path, or any path under an open prefix."""
        path: str = scope["path"]
        return path in self.open_paths or path.startswith(self.open_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.is_open(scope):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._verify(header(scope, b"authorization"))
        except Unauthorized as problem:
            await send_problem(scope, receive, send, problem)
            return
        scope.setdefault("state", {})[PRINCIPAL] = principal
        await self.app(scope, receive, send)

    async def _verify(self, authorization: str | None) -> Principal:
        if self.verifier.may_fetch_keys:
            # A JWKS fetch is blocking I/O: keep it off the event loop.
            return await anyio.to_thread.run_sync(authenticate, self.verifier, authorization)
        return authenticate(self.verifier, authorization)
