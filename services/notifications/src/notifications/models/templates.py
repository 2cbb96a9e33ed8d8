"""Per-org template overrides: an org's own wording of a notice, in one language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime


class TemplateOverride(Base):
    """What an org's cadres wrote instead of the default template of `template_key` (an event
    type, or `<event type>:<variant>`) in `language`. Validated before it is saved; it applies
    to the org's members and to those of its sub-orgs that have none of their own."""

    __tablename__ = "template_overrides"

    # Primary key order serves the dispatcher's question: the overrides of a few orgs (the
    # recipient's home org and its ancestors) for one key and language.
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
