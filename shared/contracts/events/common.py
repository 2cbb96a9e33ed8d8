"""Types the event contracts share."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

OrgId = str
Language = Literal["zh", "en"]


class OrgLevel(StrEnum):
    superior = "superior"
    enterprise = "enterprise"
    grassroots = "grassroots"


class QualityArea(StrEnum):
    ethics = "ethics"
    science_culture = "science_culture"
    technical_skills = "technical_skills"
    safety_health = "safety_health"
