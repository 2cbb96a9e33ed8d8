"""One HTTP server process for bench/web.py, under the same uvicorn settings either way:

    python -m bench.serve enrollment   # the enrollment service (create_app, BIGSCHOOL_* env)
    python -m bench.serve bare         # one trivial POST /enrollments endpoint

One process each (no workers), so the figure is what one process of the service does.
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

import bench  # noqa: F401  (this checkout's code first)

# What ServiceRuntime.serve passes to uvicorn.run (shared/runtime.py), minus the port.
UVICORN: dict[str, Any] = {"host": "127.0.0.1", "log_config": None, "access_log": False}


class EnrollmentIn(BaseModel):
    programme_id: str
    member_id: str | None = None


def bare_app() -> FastAPI:
    app = FastAPI(title="bare")

    @app.post("/enrollments", status_code=202)
    async def enrol(body: EnrollmentIn) -> dict[str, str | None]:
        return {
            "id": str(uuid.uuid4()),
            "programme_id": body.programme_id,
            "member_id": body.member_id,
            "status": "requested",
        }

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


def main(argv: list[str]) -> None:
    import uvicorn

    kind = argv[1] if len(argv) > 1 else ""
    port = int(os.environ["BIGSCHOOL_HTTP_PORT"])
    if kind == "enrollment":
        from enrollment.app import create_app
        from shared.logs import configure_logging

        app = create_app()
        settings = app.state.runtime.settings
        configure_logging(settings.service, settings.node_id, settings.log_level)
    elif kind == "bare":
        app = bare_app()
    else:
        raise SystemExit("usage: python -m bench.serve enrollment|bare")
    uvicorn.run(app, port=port, **UVICORN)


if __name__ == "__main__":
    main(sys.argv)
