"""The staff directory: who of an org is told what needs their action (duties), and how to
reach them. Contact data is personal: only the org's cadres (and admins) and the person
themselves read or change it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints
from pydantic_core import PydanticCustomError

from notifications.api.deps import Ctx, Db
from notifications.errors import Forbidden, NotFound
from notifications.service.staff import (
    DUTY_PATTERN,
    MAX_DUTIES,
    Contact,
    StaffEntry,
    get_staff,
    remove_staff,
    save_staff,
    staff_page,
)
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_key
from shared.web.deps import AfterKey, PageLimit
from shared.web.fields import DisplayText, Id, OrgId

router = APIRouter(tags=["staff"])

Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{2,38}$")]


def _duty(value: str) -> str:
    if not DUTY_PATTERN.fullmatch(value):
        raise PydanticCustomError(
            "unknown_duty",
            "a duty is approvals, endorsements, reviews, objections, admin or veto:<department>",
        )
    return value


Duty = Annotated[str, StringConstraints(max_length=120), AfterValidator(_duty)]


class ContactIn(BaseModel):
    """A staff member's own contact data (not their duties)."""

    model_config = ConfigDict(extra="forbid")

    name: DisplayText = Field(max_length=200)
    email: EmailStr | None = None
    phone: Phone | None = None
    language: Literal["zh", "en"] = "zh"

    def contact(self) -> Contact:
        email = str(self.email) if self.email else None
        return Contact(self.name, email, self.phone, self.language)


class StaffIn(ContactIn):
    duties: list[Duty] = Field(
        default_factory=list,
        max_length=MAX_DUTIES,
        examples=[["approvals", "veto:discipline"]],
        description="What this person is told of: approvals, endorsements, reviews, "
        "objections, admin, veto:<department>.",
    )


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org: str
    sub: str
    recipient_id: str = Field(description="Whose deliveries and inbox items are this person's.")
    name: str
    email: str | None
    phone: str | None
    language: str
    duties: list[str]
    updated_at: datetime


class StaffPage(BaseModel):
    items: list[StaffOut] = Field(description="In `sub` order.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


def _cadre_of(who: Principal, org: str) -> None:
    """The org's cadres and admins manage its staff directory; nobody else sees it."""
    if who.org != org or not who.has(Role.cadre, Role.admin):
        raise Forbidden("only a cadre of this org manages its staff")


def _out(entry: StaffEntry) -> StaffOut:
    return StaffOut.model_validate(entry)


@router.put(
    "/orgs/{org}/staff/{sub}",
    response_model=StaffOut,
    summary="Add or replace a staff member of the org (contact data and duties)",
)
async def put_staff(
    org: OrgId, sub: Id, body: StaffIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> StaffOut:
    _cadre_of(who, org)
    async with db.transaction() as session:
        entry = await save_staff(session, ctx, org, sub, body.contact(), body.duties)
    return _out(entry)


@router.get("/orgs/{org}/staff", response_model=StaffPage, summary="The org's staff directory")
async def list_staff(
    org: OrgId, who: CurrentPrincipal, db: Db, after: AfterKey, limit: PageLimit = 50
) -> StaffPage:
    _cadre_of(who, org)
    async with db.reading() as session:
        entries = await staff_page(session, org, after=after, limit=limit + 1)
    items = [_out(e) for e in entries[:limit]]
    more = len(entries) > limit
    return StaffPage(items=items, next_cursor=encode_key(items[-1].sub) if more else None)


@router.get("/orgs/{org}/staff/{sub}", response_model=StaffOut, summary="One staff member")
async def read_staff(org: OrgId, sub: Id, who: CurrentPrincipal, db: Db) -> StaffOut:
    if not (who.org == org and who.sub == sub and who.member_id is None):
        _cadre_of(who, org)
    async with db.reading() as session:
        entry = await get_staff(session, org, sub)
    if entry is None:
        raise NotFound(f"staff member {sub} of {org} not found")
    return _out(entry)


@router.delete(
    "/orgs/{org}/staff/{sub}",
    status_code=204,
    response_class=Response,
    summary="Remove a staff member and every notice kept for them",
)
async def delete_staff(org: OrgId, sub: Id, who: CurrentPrincipal, db: Db) -> Response:
    _cadre_of(who, org)
    async with db.transaction() as session:
        await remove_staff(session, org, sub)
    return Response(status_code=204)


def _staff_account(who: Principal) -> None:
    if who.member_id is not None:
        raise Forbidden("a staff token is required (a member's contact data is their org's)")


@router.get("/staff/me", response_model=StaffOut, summary="Your own staff directory entry")
async def read_me(who: CurrentPrincipal, db: Db) -> StaffOut:
    _staff_account(who)
    async with db.reading() as session:
        entry = await get_staff(session, who.org, who.sub)
    if entry is None:
        raise NotFound("you are not in your org's staff directory")
    return _out(entry)


@router.put(
    "/staff/me",
    response_model=StaffOut,
    summary="Set your own contact data (your duties are your org's cadres' to set)",
)
async def put_me(body: ContactIn, who: CurrentPrincipal, ctx: Ctx, db: Db) -> StaffOut:
    _staff_account(who)
    async with db.transaction() as session:
        entry = await save_staff(session, ctx, who.org, who.sub, body.contact(), None)
    return _out(entry)
