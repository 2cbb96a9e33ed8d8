"""HTTP models of preferences and org notification policies.

A value left null is inherited: a member's from their org's policy, an org's from the nearest
ancestor with a policy, then the node's defaults. "off" switches quiet hours or the digest
off where an inherited value would switch them on.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints
from pydantic_core import PydanticCustomError

from notifications.domain.deliveries import Channel, Priority
from notifications.domain.timing import QUIET_OFF, QUIET_PATTERN, QuietHours

Language = Literal["zh", "en"]
KindName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
DigestHour = int | Literal["off"]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(value: str) -> str:
    if value not in _zones():
        raise PydanticCustomError("unknown_time_zone", "not an IANA time zone, e.g. Asia/Shanghai")
    return value


def _window(value: str) -> str:
    if value != QUIET_OFF and QuietHours.parse(value) is None:
        raise PydanticCustomError("empty_window", 'the window starts where it ends: use "off"')
    return value


def _digest_hour(value: Any) -> DigestHour:
    if value == QUIET_OFF:
        return "off"
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23:
        return value
    raise PydanticCustomError("digest_hour", 'a local hour from 0 to 23, or "off"')


TimeZoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone)
]
QuietHoursText = Annotated[str, StringConstraints(pattern=QUIET_PATTERN), AfterValidator(_window)]
DigestHourIn = Annotated[
    DigestHour, PlainValidator(_digest_hour, json_schema_input_type=DigestHour)
]
ChannelsByKind = dict[KindName, list[Channel]]

ZONE = "IANA time zone of quiet hours and of the digest hour"
QUIET = '"HH:MM-HH:MM" local (may cross midnight: "22:00-07:00"), or "off"'
DIGEST = 'Local hour (0 to 23) of the daily digest of low-priority notices, or "off"'


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language | None = Field(None, description="null: the member record's language.")
    time_zone: TimeZoneName | None = Field(None, description=f"{ZONE}; null: the org's.")
    quiet_hours: QuietHoursText | None = Field(
        None, description=f"{QUIET}; null: the org's.", examples=["22:00-07:00"]
    )
    digest_hour: DigestHourIn | None = Field(None, description=f"{DIGEST}; null: the org's.")
    channels: ChannelsByKind = Field(
        default_factory=dict,
        description="Kind → channels (an empty list: none). A kind not named follows the "
        "org's policy; a kind the org requires keeps the org's channels whatever is chosen.",
        examples=[{"learning": ["inapp"], "offers": ["inapp", "sms", "email"]}],
    )


class EffectiveOut(BaseModel):
    language: str | None = Field(description="null: not known here yet.")
    time_zone: str
    quiet_hours: str
    digest_hour: DigestHour
    channels: dict[str, list[Channel]] = Field(description="Every kind: what is sent.")
    required_kinds: list[str]
    policy_org: str | None = Field(description="Whose policy applies; null: the node's.")


class PreferencesOut(PreferencesIn):
    recipient_id: str
    home_org: str
    effective: EffectiveOut


class KindOut(BaseModel):
    kind: str
    priority: Priority = Field(
        description="critical: passes quiet hours and the digest; low: may wait for the digest."
    )
    required: bool = Field(description="Your org requires it: its channels stay on.")
    channels: list[Channel] = Field(description="Your effective channels for it.")


class KindsOut(BaseModel):
    kinds: list[KindOut]


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: TimeZoneName | None = Field(None, description=f"{ZONE}; null: the node's.")
    quiet_hours: QuietHoursText | None = Field(None, description=f"{QUIET}; null: none.")
    digest_hour: DigestHourIn | None = Field(None, description=f"{DIGEST}; null: none.")
    channels: ChannelsByKind = Field(
        default_factory=dict,
        description="Kind → default channels; a kind not named: e-mail and in-app.",
    )
    required_kinds: list[KindName] = Field(
        default_factory=list, description="Kinds members cannot switch off."
    )


class PolicyOut(BaseModel):
    org: str
    source: str | None = Field(
        description="The org whose policy is in force here (this one or the nearest ancestor "
        "with one); null: the node's defaults."
    )
    time_zone: str
    quiet_hours: str
    digest_hour: DigestHour
    channels: dict[str, list[Channel]] = Field(description="Every kind's default channels.")
    required_kinds: list[str]
