"""This node's members, as awards needs them: who they are in dossiers, and where they belong."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class MemberReplica(Base):
    """A member of an org this node hosts, from the node-local members topic: the pseudonymous
    id, the home org (nominations and rewards check it) and the display name (the one piece
    of personal data a nomination dossier carries). No contact data; deleted when the member
    leaves or moves to another node."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    home_org: Mapped[str] = mapped_column(String(64), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
