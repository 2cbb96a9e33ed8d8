from __future__ import annotations

from pydantic import Field, FilePath

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

    @property
    def public_base(self) -> str:
        """The public base URL, without a trailing slash."""
        return (self.public_base_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")
