from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class EnrollmentSettings(ServiceSettings):
    service: str = Field("enrollment", description="Fixed: this service's name.")
    http_port: int = 8001
