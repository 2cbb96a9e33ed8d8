"""What a member has chosen, over what their org decided, over the node's defaults — as one
effective value per question (channels for a kind, language, zone, quiet hours, digest hour).

Pure: the service layer loads the rows and builds these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from notifications.domain.deliveries import Channel, Priority, Status
from notifications.domain.timing import QuietHours, next_digest, quiet_until
from shared.timezones import zone

# The node's defaults for a kind no policy names.
DEFAULT_CHANNELS = (Channel.email, Channel.inapp)

# Stored `digest_hour` meaning "no digest" (None: the org's, or the node's, choice).
DIGEST_OFF = -1


def in_fallback_order(channels: Iterable[Channel]) -> list[Channel]:
    """Channels in `Channel` order, the order a failing one falls back in; no repeats."""
    chosen = set(channels)
    return [c for c in Channel if c in chosen]


def planned_first(allowed: Iterable[Channel], priority: Priority) -> list[Channel]:
    """Of the channels a member allows (in fallback order), those a notice goes out on at
    once: the in-app item and the first message channel (SMS before e-mail); a later one is
    used only when the one before it gives up (`service/fallback.py`). A critical notice
    (an offer about to lapse) goes out on every allowed channel at once."""
    channels = in_fallback_order(allowed)
    if priority is Priority.critical:
        return channels
    messages = [c for c in channels if c is not Channel.inapp]
    return [c for c in channels if c is Channel.inapp or (messages and c is messages[0])]


@dataclass(frozen=True)
class Policy:
    """The effective policy of an org: its own, else its nearest ancestor's that has one
    (`source`), else the node's defaults (`source` None)."""

    source: str | None
    time_zone: str
    quiet_hours: QuietHours | None
    digest_hour: int | None
    channels: Mapping[str, tuple[Channel, ...]] = field(default_factory=dict)
    required: frozenset[str] = frozenset()

    def channels_for(self, kind: str) -> tuple[Channel, ...]:
        return self.channels.get(kind, DEFAULT_CHANNELS)


@dataclass(frozen=True)
class Preferences:
    """One member's effective preferences. `own_channels`: the kinds they chose channels for."""

    policy: Policy
    language: str | None = None  # None: the language of the member record
    time_zone: str | None = None
    quiet_hours: QuietHours | None = None
    quiet_hours_set: bool = False  # False: the org's quiet hours
    digest_hour: int | None = None  # DIGEST_OFF: none; None: the org's
    own_channels: Mapping[str, tuple[Channel, ...]] = field(default_factory=dict)

    @property
    def zone_name(self) -> str:
        return self.time_zone or self.policy.time_zone

    @property
    def quiet(self) -> QuietHours | None:
        return self.quiet_hours if self.quiet_hours_set else self.policy.quiet_hours

    @property
    def digest(self) -> int | None:
        """The local hour of the member's daily digest, or None for no digest."""
        hour = self.policy.digest_hour if self.digest_hour is None else self.digest_hour
        return None if hour is None or hour == DIGEST_OFF else hour

    def channels_for(self, kind: str) -> list[Channel]:
        """The member's choice for `kind`, else the org's; for a kind the org requires, the
        org's channels stay on whatever the member chose."""
        org = self.policy.channels_for(kind)
        mine = self.own_channels.get(kind)
        chosen = set(org if mine is None else mine)
        if kind in self.policy.required:
            chosen |= set(org)
        return in_fallback_order(chosen)

    def timing(
        self, channel: Channel, priority: Priority, now: datetime
    ) -> tuple[Status, datetime]:
        """When a delivery on `channel` of a notice of `priority` planned `now` goes out:
        in-app items and critical notices at once; a low-priority e-mail or SMS waits for the
        daily digest (when the member has one); others wait for the end of quiet hours."""
        if channel is Channel.inapp or priority is Priority.critical:
            return Status.pending, now
        tz = zone(self.zone_name)
        hour = self.digest
        if priority is Priority.low and hour is not None:
            return Status.digest, next_digest(now, hour, tz)
        return Status.pending, quiet_until(now, self.quiet, tz) or now
