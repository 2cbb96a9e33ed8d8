"""`python -m portal`: serve the portal of one node."""

from __future__ import annotations

import uvicorn

from portal.app import create_app
from portal.settings import PortalSettings


def main() -> None:
    settings = PortalSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
        # Open inbox streams would hold a stop up: they are cut after a few seconds.
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
