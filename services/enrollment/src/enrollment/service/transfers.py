"""Moving a member to another grassroots union.

Within this node the member simply changes org. To a union hosted by another node:

1. the old home gives the cadre a one-time token (`transfer_member`);
2. the new home's cadre takes the member in with it — the contact data as the member gives
   it there — and asks the old home to hand over (`take_in`, MemberTransferAccepted to the
   old home's inbox);
3. the old home checks the token, publishes `member.transferred` (member id, destination,
   learning record, enrollments: no name, no contact data) and forgets the member but for
   `{member_id, moved_to, at}` (`hand_over`); or refuses (MemberTransferRefused);
4. the new home activates the member with their record (`arrive`), and the owners of their
   programmes send later decisions there (`rehome_seats`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import learning_repository
from enrollment import member_repository as repo
from enrollment.domain.learning import federation_year
from enrollment.domain.members import (
    TRANSFER_VALID_FOR,
    DepartureReason,
    MemberStatus,
    TransferToken,
)
from enrollment.errors import Conflict, NotFound, Unprocessable
from enrollment.models import Enrollment, LearningRecord, Member, MemberTransfer
from enrollment.schemas import IntakeIn
from enrollment.service.context import Context
from enrollment.service.departures import depart, forget_arrival
from enrollment.service.learning import issue_certificate
from enrollment.service.members import check_new_member, new_member, publish_member
from enrollment.service.stats_marks import mark_years_since
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    CarriedEnrollment,
    LearningEntry,
    MemberTransferAccepted,
    MemberTransferred,
    MemberTransferRefused,
    OrgLevel,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transfer:
    to_org: str
    to_node: str
    token: str | None = None  # only for another node's union
    expires_at: datetime | None = None


async def transfer_member(
    session: AsyncSession, ctx: Context, member: Member, to_org: str
) -> Transfer:
    """Within this node the move is done at once; to another node's union the answer is the
    token for its intake (a new token replaces an earlier one)."""
    org = await ctx.orgs.get(to_org, session)
    if org is None:
        raise NotFound(f"org {to_org} is not known", field="to_org")
    if org.level != OrgLevel.grassroots:
        raise Unprocessable("members belong to a grassroots org", field="to_org")
    if to_org == member.home_org:
        raise Unprocessable("the member already belongs to this org", field="to_org")
    if member.status != MemberStatus.active:
        raise Conflict("the member's arrival from another node is not complete yet")
    if org.hosted_by == ctx.node_id:
        await _move_here(session, ctx, member, to_org)
        return Transfer(to_org, ctx.node_id)
    token = TransferToken.issue(ctx.node_id, member.member_id)
    now = ctx.clock.now()
    transfer = MemberTransfer(
        member_id=member.member_id,
        from_org=member.home_org,
        to_org=to_org,
        to_node=org.hosted_by,
        token_sha256=token.sha256,
        issued_at=now,
        expires_at=now + TRANSFER_VALID_FOR,
    )
    await session.merge(transfer)
    return Transfer(to_org, org.hosted_by, token.token, transfer.expires_at)


async def withdraw_transfer(session: AsyncSession, member: Member) -> None:
    transfer = await repo.get_transfer(session, member.member_id)
    if transfer is None:
        raise NotFound("the member has no open transfer")
    await session.delete(transfer)


async def _move_here(session: AsyncSession, ctx: Context, member: Member, to_org: str) -> None:
    """Their open enrollments go along (approvals are asked of the new org's cadre); their
    history stays with the org it happened in."""
    for org_id in (member.home_org, to_org):  # both orgs' counts since the member joined
        mark_years_since(session, ctx, org_id, member.created_at)
    member.home_org = to_org
    for enrollment in await repo.open_enrollments(session, member.member_id):
        enrollment.home_org = to_org
    await publish_member(session, ctx, member)


async def take_in(session: AsyncSession, ctx: Context, data: IntakeIn) -> Member:
    """New home: the member is here, `arriving`, until the old home hands over."""
    token = TransferToken.parse(data.token)
    if token.node == ctx.node_id:
        raise Unprocessable("this token moves a member within this node", field="token")
    await check_new_member(session, ctx, data)
    if await repo.get_member(session, token.member_id) is not None:
        raise Conflict("this member is already registered here", field="token")
    member = new_member(ctx, data, member_id=token.member_id, status=MemberStatus.arriving)
    session.add(member)
    await ctx.outbox.stage(
        session,
        MemberTransferAccepted(
            member_id=member.member_id,
            from_node=token.node,
            to_org=member.home_org,
            to_node=ctx.node_id,
            token=token.token,
            accepted_at=ctx.clock.now(),
        ),
        topic=topics.inbox(token.node),
    )
    return member


async def hand_over(session: AsyncSession, ctx: Context, event: MemberTransferAccepted) -> None:
    """Old home: with the right token, the member's record leaves for the new home and only
    `{member_id, moved_to, at}` stays here."""
    now = ctx.clock.now()
    transfer = await repo.get_transfer(session, event.member_id)
    member = await repo.get_member(session, event.member_id, lock=True)
    refusal = _refusal(transfer, member, event, now)
    if refusal is not None or transfer is None or member is None:
        await ctx.outbox.stage(
            session,
            MemberTransferRefused(
                member_id=event.member_id,
                from_org=transfer.from_org if transfer else None,
                to_org=event.to_org,
                reason=refusal or "unknown_transfer",
                refused_at=now,
            ),
            topic=topics.inbox(event.to_node),
        )
        log.warning("transfer of a member refused: %s", refusal)
        return
    learning = [_entry(r) for r in await repo.counting_records(session, member.member_id)]
    carried = [
        _carried(e, owner)
        for e, owner in await repo.enrollments_with_owner(session, event.member_id)
    ]
    await ctx.outbox.stage(
        session,
        MemberTransferred(
            member_id=member.member_id,
            from_org=member.home_org,
            to_org=transfer.to_org,
            to_node=transfer.to_node,
            transferred_at=now,
            learning=learning,
            enrollments=carried,
        ),
        topic=topics.ENROLLMENT,
    )
    await depart(session, ctx, member, DepartureReason.transferred, moved_to=transfer.to_org)


def _refusal(
    transfer: MemberTransfer | None,
    member: Member | None,
    event: MemberTransferAccepted,
    now: datetime,
) -> str | None:
    if transfer is None or member is None:
        return "unknown_transfer"
    if not TransferToken.parse(event.token).matches(transfer.token_sha256):
        return "token_mismatch"
    if now >= transfer.expires_at:
        return "expired"
    if (event.to_org, event.to_node) != (transfer.to_org, transfer.to_node):
        return "wrong_destination"
    return None


def _entry(record: LearningRecord) -> LearningEntry:
    return LearningEntry.model_validate(record, from_attributes=True)


def _carried(enrollment: Enrollment, owner_org: str) -> CarriedEnrollment:
    fields = {
        name: getattr(enrollment, name)
        for name in CarriedEnrollment.model_fields
        if name != "owner_org"
    }
    return CarriedEnrollment(owner_org=owner_org, **fields)


async def transferred(
    session: AsyncSession, ctx: Context, event: MemberTransferred, envelope: Envelope
) -> None:
    """Every node that hears of a transfer: the new home takes the member's record; an owner
    of their programmes sends later decisions on their seats to the new home."""
    mine = [e.enrollment_id for e in event.enrollments if e.owner_node == ctx.node_id]
    await repo.rehome_seats(session, mine, event.to_org, event.to_node)
    if await ctx.orgs.hosts(event.to_org, session):
        await _arrive(session, ctx, event, envelope)


async def _arrive(
    session: AsyncSession, ctx: Context, event: MemberTransferred, envelope: Envelope
) -> None:
    member = await repo.get_member(session, event.member_id, lock=True)
    if member is None or member.status != MemberStatus.arriving:
        log.warning("a transfer arrived for a member not awaited here; ignored")
        return
    member.status = MemberStatus.active.value
    await repo.forget_departure(session, member.member_id)  # a member who comes back
    zone = ctx.settings.federation_timezone
    for carried in event.enrollments:
        fields = carried.model_dump(exclude={"owner_org"})
        session.add(Enrollment(member_id=member.member_id, home_org=member.home_org, **fields))
    for entry in event.learning:
        record = LearningRecord(
            member_id=member.member_id,
            home_org=member.home_org,
            year=federation_year(entry.completed_at, zone),
            ce_id=envelope.id,
            **entry.model_dump(exclude={"quality_area"}),
            quality_area=entry.quality_area.value,
        )
        learning_repository.add_record(session, record)
        await issue_certificate(session, ctx, record)
    history = [e.requested_at for e in event.enrollments] + [e.completed_at for e in event.learning]
    mark_years_since(session, ctx, member.home_org, min(history, default=ctx.clock.now()))
    await publish_member(session, ctx, member)


async def transfer_refused(
    session: AsyncSession, ctx: Context, event: MemberTransferRefused
) -> None:
    """New home: the old home did not hand over; the contact data taken in goes."""
    member = await repo.get_member(session, event.member_id, lock=True)
    if member is None or member.status != MemberStatus.arriving:
        return  # arrived already (a replayed acceptance was refused), or withdrawn
    await forget_arrival(session, ctx, member, event.reason)
