"""Which channels a notice goes to, and when: the member's preferences over their org's
policy (the nearest org up the tree that has one) over the node's defaults (e-mail and
in-app, the node's time zone, no quiet hours, no digest).

Planning, the channel fallback and the fan-out ask here: `allowed_channels` for one member,
`allowed_channels_of_many` / `preferences_of_many` for a batch (one query for the members'
rows, one per distinct home org for the policies — never one per member).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import preferences_repository as store
from notifications import repository
from notifications.domain.deliveries import Channel, Priority
from notifications.domain.preferences import (
    DEFAULT_CHANNELS,
    DIGEST_OFF,
    Policy,
    Preferences,
    in_fallback_order,
)
from notifications.domain.timing import QUIET_OFF, QuietHours
from notifications.errors import Unprocessable
from notifications.models import MemberPreference, OrgPolicy, Recipient
from notifications.service.context import Context
from notifications.service.rules import MEMBER_RULES
from shared.contracts.events import NoticePublished

__all__ = [
    "DEFAULT_CHANNELS",
    "allowed_channels",
    "allowed_channels_of_many",
    "catalogue",
    "kind_of",
    "preferences_of",
    "preferences_of_many",
]

GENERAL = "general"  # the kind of an event type nobody classified

# Kinds of notices planned without a member rule (a public notice's fan-out, the "needs
# action" notices to staff, reminders), beside the kinds of `service/rules.py`.
OTHER_KINDS: dict[str, Priority] = {
    GENERAL: Priority.normal,
    "notices": Priority.low,
    "actions": Priority.normal,
    "reminders": Priority.normal,
}

# Event types planned without a member rule: their kind and priority.
EVENT_KINDS: dict[str, tuple[str, Priority]] = {
    NoticePublished.ce_type: ("notices", Priority.low),
}

CHANNEL_NAMES = frozenset(c.value for c in Channel)
_URGENCY = {Priority.critical: 0, Priority.normal: 1, Priority.low: 2}

DigestHour = int | Literal["off"]


@dataclass(frozen=True)
class Kind:
    name: str
    priority: Priority


def kind_of(event_type: str) -> Kind:
    """What recipients choose channels for, and how urgent it is, for an event type —
    whichever registry plans it (member rules, staff rules, scheduled notices)."""
    # Imported here: those registries plan through `planning`, which imports this module.
    from notifications.service.staff_rules import notice_kind

    if event_type in EVENT_KINDS:
        return Kind(*EVENT_KINDS[event_type])
    return Kind(*notice_kind(event_type))


def catalogue() -> dict[str, Priority]:
    """Every kind with its priority (the most urgent of its event types), sorted by name."""
    from notifications.service.reminders import SCHEDULED_KINDS
    from notifications.service.staff_rules import STAFF_RULES

    kinds: dict[str, Priority] = dict(OTHER_KINDS)
    every: list[tuple[str, Priority]] = [(r.kind, r.priority) for r in MEMBER_RULES]
    every += [(r.kind, r.priority) for r in STAFF_RULES]
    every += [*EVENT_KINDS.values(), *SCHEDULED_KINDS.values()]
    for name, priority in every:
        if name not in kinds or _URGENCY[priority] < _URGENCY[kinds[name]]:
            kinds[name] = priority
    return dict(sorted(kinds.items()))


def check_kinds(kinds: Iterable[str], field: str) -> None:
    """422 naming `field.<kind>` for the first kind the catalogue does not know."""
    known = catalogue()
    for kind in kinds:
        if kind not in known:
            raise Unprocessable(
                "not a kind of notice (see GET /preferences/kinds)", field=f"{field}.{kind}"
            )


# -- reading ------------------------------------------------------------------------------------
def node_policy(ctx: Context) -> Policy:
    settings = ctx.settings
    zone_name = settings.notify_default_timezone or settings.federation_timezone
    return Policy(source=None, time_zone=zone_name, quiet_hours=None, digest_hour=None)


def _channels(stored: Mapping[str, Iterable[str]]) -> dict[str, tuple[Channel, ...]]:
    return {
        kind: tuple(in_fallback_order(Channel(c) for c in names if c in CHANNEL_NAMES))
        for kind, names in stored.items()
    }


def _policy(row: OrgPolicy, node: Policy) -> Policy:
    return Policy(
        source=row.org_id,
        time_zone=row.time_zone or node.time_zone,
        quiet_hours=QuietHours.parse(row.quiet_hours),
        digest_hour=None if row.digest_hour in (None, DIGEST_OFF) else row.digest_hour,
        channels=_channels(row.channels),
        required=frozenset(row.required_kinds),
    )


async def org_chain(session: AsyncSession, ctx: Context, org_id: str) -> list[str]:
    """`org_id` and its ancestors, nearest first, as far as this replica knows them."""
    chain = [org_id]
    org = await ctx.orgs.get(org_id, session)
    while org is not None and org.parent_id and len(chain) <= ctx.orgs.MAX_DEPTH:
        chain.append(org.parent_id)
        org = await ctx.orgs.get(org.parent_id, session)
    return chain


async def effective_policy(session: AsyncSession, ctx: Context, org_id: str) -> Policy:
    """The policy of the nearest org from `org_id` up that has one, else the node's."""
    chain = await org_chain(session, ctx, org_id)
    rows = await store.org_policies(session, chain)
    node = node_policy(ctx)
    return next((_policy(rows[org], node) for org in chain if org in rows), node)


def _preferences(row: MemberPreference | None, policy: Policy) -> Preferences:
    if row is None:
        return Preferences(policy)
    return Preferences(
        policy,
        language=row.language,
        time_zone=row.time_zone,
        quiet_hours=QuietHours.parse(row.quiet_hours),
        quiet_hours_set=row.quiet_hours is not None,
        digest_hour=row.digest_hour,
        own_channels=_channels(row.channels),
    )


async def preferences_of_many(
    session: AsyncSession, ctx: Context, members: Sequence[tuple[str, str]]
) -> dict[str, Preferences]:
    """The effective preferences of each (member id, home org) of a batch."""
    rows = await store.member_preferences(session, {m for m, _ in members})
    policies = {org: await effective_policy(session, ctx, org) for org in {o for _, o in members}}
    return {m: _preferences(rows.get(m), policies[org]) for m, org in members}


async def preferences_of(
    session: AsyncSession, ctx: Context, member_id: str, home_org: str
) -> Preferences:
    return (await preferences_of_many(session, ctx, [(member_id, home_org)]))[member_id]


async def allowed_channels(
    session: AsyncSession, ctx: Context, member_id: str, home_org: str, event_type: str
) -> list[Channel]:
    """The channels the member allows for this kind of event, in fallback order (a channel
    that keeps failing falls back to the next one in this list)."""
    prefs = await preferences_of(session, ctx, member_id, home_org)
    return prefs.channels_for(kind_of(event_type).name)


async def allowed_channels_of_many(
    session: AsyncSession, ctx: Context, members: Sequence[tuple[str, str]], event_type: str
) -> dict[str, list[Channel]]:
    """`allowed_channels` for a batch of (member id, home org), in a few queries."""
    kind = kind_of(event_type).name
    prefs = await preferences_of_many(session, ctx, members)
    return {member_id: p.channels_for(kind) for member_id, p in prefs.items()}


async def preferred_languages(session: AsyncSession, member_ids: Iterable[str]) -> dict[str, str]:
    """The language each of `member_ids` chose here, for those who chose one."""
    rows = await store.member_preferences(session, set(member_ids))
    return {m: row.language for m, row in rows.items() if row.language}


def with_preferred_languages(
    recipients: Mapping[str, Recipient], languages: Mapping[str, str]
) -> dict[str, Recipient]:
    """`recipients`, those with a preferred language as unsaved copies that carry it (the
    member record itself stays as the members topic says)."""
    columns = [attr.key for attr in inspect(Recipient).column_attrs]
    out = dict(recipients)
    for member_id, language in languages.items():
        if member_id in out and out[member_id].language != language:
            copy = Recipient(**{key: getattr(out[member_id], key) for key in columns})
            copy.language = language
            out[member_id] = copy
    return out


async def home_org_of(session: AsyncSession, member_id: str, fallback: str) -> str:
    """The member's home org as the member record says, else `fallback` (the token's org)."""
    recipient = await repository.get_recipient(session, member_id)
    return recipient.home_org if recipient is not None else fallback


# -- writing ------------------------------------------------------------------------------------
def _stored_digest(hour: DigestHour | None) -> int | None:
    return DIGEST_OFF if hour == "off" else hour


def _stored_channels(channels: Mapping[str, Iterable[Channel]]) -> dict[str, list[str]]:
    return {kind: [c.value for c in in_fallback_order(cs)] for kind, cs in channels.items()}


async def save_member_preferences(
    session: AsyncSession, ctx: Context, member_id: str, values: Mapping[str, Any]
) -> None:
    """Replace the member's preferences. A required kind may be switched off here; its org's
    channels stay on regardless (`Preferences.channels_for`), so the org may require a kind
    later without asking its members."""
    check_kinds(values.get("channels", {}), "channels")
    quiet = values.get("quiet_hours")
    await store.save_member_preference(
        session,
        {
            "member_id": member_id,
            "language": values.get("language"),
            "time_zone": values.get("time_zone"),
            "quiet_hours": QUIET_OFF if quiet == QUIET_OFF else quiet,
            "digest_hour": _stored_digest(values.get("digest_hour")),
            "channels": _stored_channels(values.get("channels", {})),
            "updated_at": ctx.clock.now(),
        },
    )


async def save_org_policy(
    session: AsyncSession, ctx: Context, org_id: str, values: Mapping[str, Any]
) -> None:
    """Replace the org's own policy (its subtree inherits it)."""
    check_kinds(values.get("channels", {}), "channels")
    required = list(dict.fromkeys(values.get("required_kinds", [])))
    check_kinds(required, "required_kinds")
    await store.save_org_policy(
        session,
        {
            "org_id": org_id,
            "time_zone": values.get("time_zone"),
            "quiet_hours": values.get("quiet_hours"),
            "digest_hour": _stored_digest(values.get("digest_hour")),
            "channels": _stored_channels(values.get("channels", {})),
            "required_kinds": sorted(required),
            "updated_at": ctx.clock.now(),
        },
    )
