from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class AwardsSettings(ServiceSettings):
    service: str = Field("awards", description="Fixed: this service's name.")
    http_port: int = 8002
