"""Who is told what: one declarative rule per member-facing event type.

A rule names the event, the consumer whose routes carry it, how to find the members it
concerns and their home org, and which template fields the event supplies beyond its own
values. Planning (`planning.plan_event`) and the consumers read only this registry, so a new
event type plugs in by adding its templates (`notifications.templates`) and a rule here:

    MemberRule(
        SomethingHappened,
        consumer=ENROLLMENT,                       # or AWARDS: whose routes carry it
        members=lambda e: [e.member_id],           # the member ids it concerns
        home_org=lambda e: e.home_org,             # None: each member's recorded home org
        known_only=False,                          # True: only members this node knows
        fields=lambda ctx, e: {...},               # extra, pre-formatted template fields
    )

Whatever the rule, only members whose home org this node hosts are told, nothing is planned
for stale news, and there is one delivery per (event, member, channel).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from notifications.domain.deliveries import Priority
from notifications.service.context import Context
from shared.contracts.base import Event
from shared.contracts.events import (
    CertificateIssued,
    EnrollmentCancelled,
    EnrollmentCompleted,
    EnrollmentConfirmed,
    EnrollmentOffered,
    EnrollmentOfferExpired,
    EnrollmentRefused,
    EnrollmentWaitlisted,
    HonourGranted,
    NominationDecided,
    NominationFiled,
    NominationReturned,
    ProposalEvaluated,
)
from shared.links import LinkSigner
from shared.timezones import zone

E = TypeVar("E", bound=Event)

# The consumers whose routes carry member notices (consumers.py builds their routes).
ENROLLMENT = "enrollment_events"
AWARDS = "honours"
MEMBERS = "recipients"  # the node-local members topic: news that never leaves the node

DEADLINE_FORMAT = "%Y-%m-%d %H:%M"  # in the federation's time zone


def _no_fields(ctx: Context, event: Any) -> dict[str, Any]:
    return {}


def _always(event: Any) -> bool:
    return True


@dataclass(frozen=True)
class MemberRule(Generic[E]):
    """How one event type becomes notices to members."""

    event: type[E]
    consumer: str
    members: Callable[[E], Iterable[str]]
    # What members choose channels for (preferences are per kind), and how urgent it is.
    kind: str = "general"
    priority: Priority = Priority.normal
    # The home org that decides which node tells a member; None: the member's home org as
    # this node recorded it (a team may span orgs and nodes).
    home_org: Callable[[E], str] | None = None
    # Only members this node knows as recipients; otherwise a delivery waits at the
    # dispatcher for a member record that has not arrived yet.
    known_only: bool = False
    applies: Callable[[E], bool] = _always
    # Event values not kept with the delivery (e.g. a team's other member ids: a delivery
    # names its own member only, so forgetting a member removes every trace of them).
    exclude: Mapping[str, Any] = field(default_factory=dict)
    # Extra template fields, computed when the notice is planned.
    fields: Callable[[Context, E], dict[str, Any]] = _no_fields
    # Template field → the org id in the event whose name (as this node knows it) it shows.
    org_names: Mapping[str, Callable[[E], str]] = field(default_factory=dict)


# Decisions after which a member may want to give the seat or place up with one click.
CANCELLABLE = (EnrollmentConfirmed, EnrollmentWaitlisted)


def cancel_link(ctx: Context, event: Event) -> str | None:
    """A signed one-click link to the member's home enrollment service (same node, same
    link secret), when this node issues them."""
    settings = ctx.settings
    if not isinstance(event, CANCELLABLE) or not settings.enrollment_public_url:
        return None
    if settings.link_secret is None:
        return None
    signer = LinkSigner(
        settings.link_secret.get_secret_value(),
        max_age_seconds=settings.link_max_age_hours * 3600,
    )
    token = signer.make("cancel-enrollment", event.enrollment_id)
    return f"{settings.enrollment_public_url.rstrip('/')}/links/{token}"


def _cancel_fields(ctx: Context, event: Event) -> dict[str, Any]:
    link = cancel_link(ctx, event)
    return {} if link is None else {"cancel_link": link}


def _offer_fields(ctx: Context, event: EnrollmentOffered) -> dict[str, Any]:
    local = event.offer_expires_at.astimezone(zone(ctx.settings.federation_timezone))
    return {"offer_deadline": local.strftime(DEADLINE_FORMAT)}


def _member(event: Any) -> list[str]:
    return [event.member_id]


def _home_org(event: Any) -> str:
    return str(event.home_org)


def _enrollment(model: type[E], **options: Any) -> MemberRule[E]:
    """An enrollment event about one member, whose home org it names. As for every
    enrollment decision, a member whose record has not arrived yet is told once it does."""
    options.setdefault("kind", "enrollment")
    return MemberRule(model, ENROLLMENT, _member, home_org=_home_org, **options)


def _nomination(model: type[E]) -> MemberRule[E]:
    """A nomination step the nominees are told of: the members this node knows, at the
    nomination's home org; the other nominees' ids are not kept with the delivery."""
    return MemberRule(
        model,
        AWARDS,
        members=lambda e: e.state.member_ids,  # type: ignore[attr-defined]
        home_org=lambda e: e.state.home_org,  # type: ignore[attr-defined]
        kind="nominations",
        known_only=True,
        exclude={"state": {"member_ids"}},
        org_names={"actor_org_name": lambda e: e.actor_org},  # type: ignore[attr-defined]
    )


MEMBER_RULES: tuple[MemberRule[Any], ...] = (
    _enrollment(EnrollmentConfirmed, fields=_cancel_fields),
    _enrollment(EnrollmentWaitlisted, fields=_cancel_fields),
    _enrollment(EnrollmentRefused),
    # An offer lapses at its deadline: it passes quiet hours and the digest.
    _enrollment(EnrollmentOffered, kind="offers", priority=Priority.critical, fields=_offer_fields),
    _enrollment(EnrollmentOfferExpired),
    # A member (or their cadre) who gave the place up knows it: only the owner's doing is news.
    _enrollment(EnrollmentCancelled, applies=lambda e: e.by in ("owner", "programme_cancelled")),
    # Good news that keeps: it may wait for the member's daily digest.
    _enrollment(EnrollmentCompleted, kind="learning", priority=Priority.low),
    _enrollment(CertificateIssued, kind="learning", priority=Priority.low),
    MemberRule(
        HonourGranted,
        AWARDS,
        members=lambda e: e.member_ids,
        kind="honours",
        known_only=True,  # the home org is the recipient's: a team may span orgs (and nodes)
        exclude={"member_ids": True},
        org_names={"granting_org_name": lambda e: e.granting_org},
    ),
    # The nominees learn they were nominated (the notice names the scheme by its title).
    _nomination(NominationFiled),
    _nomination(NominationReturned),
    _nomination(NominationDecided),
    # Each evaluation step of a member's proposal; the reward itself is an honour (above).
    MemberRule(
        ProposalEvaluated,
        MEMBERS,
        _member,
        home_org=_home_org,
        kind="proposals",
        applies=lambda e: e.step != "reward",
        org_names={"evaluating_org_name": lambda e: e.evaluating_org},
    ),
)

RULES: dict[str, MemberRule[Any]] = {rule.event.ce_type: rule for rule in MEMBER_RULES}


def rule_for(event: Event) -> MemberRule[Any]:
    return RULES[event.ce_type]


def rules_of(consumer: str) -> list[MemberRule[Any]]:
    return [rule for rule in MEMBER_RULES if rule.consumer == consumer]
