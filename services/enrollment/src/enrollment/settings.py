from __future__ import annotations

from typing import Self

from pydantic import Field, FilePath, model_validator

from shared.settings import ServiceSettings


class EnrollmentSettings(ServiceSettings):
    service: str = Field("enrollment", description="Fixed: this service's name.")
    http_port: int = 8001
    offer_check_seconds: float = Field(
        30, gt=0, description="How often the owner looks for seat offers whose time is up."
    )

    # Certificates (learning records, api/certificates.py).
    public_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where the public reaches this service: the base of the verification URL "
        "printed and QR-coded on certificates. Default http://127.0.0.1:<http_port>.",
    )
    certificate_font: FilePath | None = Field(
        None,
        description="A TrueType/OpenType font (.ttf, .otf, .ttc) with the glyphs of members' "
        "names, e.g. a CJK font; default: the first found of Noto Sans CJK, WenQuanYi and "
        "DejaVu Sans in /usr/share/fonts.",
    )

    # Roster imports (api/rosters.py, service/roster.py, service/roster_worker.py).
    roster_max_bytes: int = Field(
        20 * 1024 * 1024,
        ge=1,
        description="Largest roster file: the body limit of /rosters/ (unless "
        "BIGSCHOOL_HTTP_BODY_LIMITS names /rosters itself).",
    )
    roster_max_rows: int = Field(50_000, ge=1, description="Most rows in one roster file.")
    roster_chunk_rows: int = Field(
        500, ge=1, le=10_000, description="Rows an import commits per transaction."
    )
    roster_poll_seconds: float = Field(
        2, gt=0, description="How often an idle import worker looks for queued jobs."
    )
    roster_lease_seconds: float = Field(
        30,
        gt=0,
        description="A worker's hold on a running import; a job whose worker stopped (a "
        "crash) is resumed by another once its lease has run out.",
    )

    # Roll-ups (service/stats.py, service/stats_publisher.py, api/rollups.py).
    stats_debounce_seconds: float = Field(
        30,
        gt=0,
        description="How often the changed figures of the orgs hosted here are published "
        "(one snapshot per org and year at the most per period, whatever changed meanwhile).",
    )
    stats_batch_size: int = Field(
        200, ge=1, le=5_000, description="Orgs and years recounted per transaction."
    )

    @model_validator(mode="after")
    def _roster_body_limit(self) -> Self:
        self.http_body_limits.setdefault("/rosters", self.roster_max_bytes)
        return self

    @property
    def public_base(self) -> str:
        """The public base URL, without a trailing slash."""
        return (self.public_base_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")
