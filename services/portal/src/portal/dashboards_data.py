"""The superior's dashboard as data: an org's drill-down (its subtree and a page of its
children's) from the roll-up API, proposal adoption from the awards API, the breadcrumbs up
to the user's own org, the bar charts drawn from them and the rows an export holds.

Everything is computed here, so that the template only places what it is given (inline SVG
with presentation attributes: the CSP forbids inline style)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.api import ApiError, Services
from portal.i18n import QUALITY_AREAS, format_number, translate
from shared.web.spreadsheet import Cell

log = logging.getLogger(__name__)

PAGE = 50  # children per page, as the roll-up API pages them
MAX_DEPTH = 12  # breadcrumbs: at most this many orgs up to the user's own
# The chart's drawing box (SVG user units; the SVG scales to its container).
# At 13 units a label reads at about 13 px in a 360-px phone's card; values fit right of a
# full bar.
WIDTH, LABEL_H, BAR_H, GAP, BAR_MAX = 260, 16, 14, 8, 160


@dataclass(frozen=True)
class Adoption:
    """An org's proposal adoption for the year; `suppressed`: too few to show."""

    suppressed: bool
    evaluated: int | None = None
    adopted: int | None = None
    rate: float | None = None


@dataclass(frozen=True)
class OrgFigures:
    """One org's subtree roll-up, as the roll-up API answers it."""

    org_id: str
    name: str
    suppressed: bool
    members: int | None
    participants: int | None
    participation_rate: float | None
    hours_per_member: dict[str, float]
    spent_fen: int | None
    committed_fen: int | None
    orgs: int
    adoption: Adoption | None = None  # None: the awards API gave no figures here

    @classmethod
    def of(cls, row: dict[str, Any]) -> OrgFigures:
        return cls(
            org_id=str(row["org_id"]),
            name=str(row.get("name") or row["org_id"]),
            suppressed=bool(row.get("suppressed")),
            members=row.get("members"),
            participants=row.get("participants"),
            participation_rate=row.get("participation_rate"),
            hours_per_member={
                str(k): float(v) for k, v in (row.get("hours_per_member") or {}).items()
            },
            spent_fen=row.get("spent_fen"),
            committed_fen=row.get("committed_fen"),
            orgs=int(row.get("orgs") or 1),
        )


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as read (a percentage, hours, yuan) or why there is none
    y: int  # top of the label line
    width: float  # the bar's length in user units (0: no bar)


@dataclass(frozen=True)
class Chart:
    key: str  # id of the figure and message key of its title
    bars: list[Bar]
    height: int
    columns: list[str]  # the data table's headings
    rows: list[list[str]]  # the data table's cells (the first one names the row)


@dataclass
class Dashboard:
    org_id: str
    year: int
    total: OrgFigures
    children: list[OrgFigures]
    next_cursor: str | None
    trail: list[tuple[str, str]] = field(default_factory=list)  # (org id, name) from the top

    @property
    def shown(self) -> list[OrgFigures]:
        """The rows the page shows: the subtree's total, then each child on this page."""
        return [self.total, *self.children]


async def load(
    services: Services, token: str, org: str, home_org: str, year: int | None, after: str
) -> Dashboard:
    """The drill-down of `org`; the roll-up API decides whether the caller may see it (404
    otherwise, whether or not the org exists)."""
    body = await services.call(
        "enrollment",
        "GET",
        f"/rollups/{org}/children",
        token,
        params={"year": year, "after": after, "limit": PAGE},
    )
    total = OrgFigures.of(body["parent"])
    children = [OrgFigures.of(row) for row in body["items"]]
    adoption = await asyncio.gather(
        *(_adoption(services, token, f.org_id, int(body["year"])) for f in [total, *children])
    )
    total, *children = [_with(f, a) for f, a in zip([total, *children], adoption, strict=True)]
    trail = await _trail(services, token, org, home_org)
    return Dashboard(org, int(body["year"]), total, children, body.get("next_cursor"), trail)


def _with(figures: OrgFigures, adoption: Adoption | None) -> OrgFigures:
    return OrgFigures(**{**figures.__dict__, "adoption": adoption})


async def _adoption(services: Services, token: str, org: str, year: int) -> Adoption | None:
    """The year's adoption from the awards API; None when it has none for this org here."""
    try:
        body = await services.call(
            "awards", "GET", f"/orgs/{org}/proposal-stats", token, params={"year": year}
        )
    except ApiError as exc:
        if exc.status >= 500:
            log.warning("proposal figures of %s: %s %s", org, exc.status, exc.detail)
        return None
    part = (body.get("total") or {}).get("adoption") or {}
    if part.get("suppressed", True):
        return Adoption(suppressed=True)
    return Adoption(False, part.get("evaluated"), part.get("adopted"), part.get("rate"))


async def _trail(services: Services, token: str, org: str, home_org: str) -> list[tuple[str, str]]:
    """The orgs from the user's own down to `org` (the breadcrumbs back up)."""
    trail: list[tuple[str, str]] = []
    current: str | None = org
    while current is not None and len(trail) < MAX_DEPTH:
        try:
            found = await services.call("enrollment", "GET", f"/orgs/{current}", token)
        except ApiError:
            break  # the tree above is not known here: the trail starts lower
        trail.insert(0, (str(found["org_id"]), str(found.get("name") or found["org_id"])))
        if current == home_org:
            break
        current = found.get("parent_id")
    return trail


# -- charts ---------------------------------------------------------------------------------


def percent(value: float | None) -> str:
    return "" if value is None else f"{format_number(round(value * 100, 1))}%"


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"¥{format_number(fen / 100)}"


def _bars(items: Sequence[tuple[str, float | None, str]]) -> tuple[list[Bar], int]:
    """Horizontal bars, each under its label, scaled to the largest value."""
    top = max((v for _, v, _ in items if v is not None), default=0.0) or 1.0
    bars, y = [], 0
    for label, value, text in items:
        width = 0.0 if value is None else round(BAR_MAX * value / top, 1)
        bars.append(Bar(_short(label), text, y, width))
        y += LABEL_H + BAR_H + GAP
    return bars, max(y, LABEL_H + BAR_H)


def _short(label: str, room: float = WIDTH - 8) -> str:
    """The label cut to what the drawing's width holds (a CJK character is about twice as
    wide as a Latin one); the data table beside it has the whole name."""
    used, out = 0.0, ""
    for char in label:
        used += 13 if ord(char) > 0x2E80 else 7
        if used > room:
            return out + "…"
        out += char
    return out


def _name(lang: str, f: OrgFigures, board: Dashboard) -> str:
    return f"{translate(lang, 'dash.total')}: {f.name}" if f is board.total else f.name


def charts(board: Dashboard, lang: str) -> list[Chart]:
    hidden = translate(lang, "dash.suppressed")
    none = translate(lang, "dash.no_figures")
    rows = board.shown

    def shown(f: OrgFigures, value: float | None, text: str) -> tuple[float | None, str]:
        if f.suppressed:
            return None, hidden
        return value, text if value is not None else none

    out: list[Chart] = []
    participation = [
        (_name(lang, f, board), *shown(f, f.participation_rate, percent(f.participation_rate)))
        for f in rows
    ]
    bars, height = _bars(participation)
    out.append(
        Chart(
            "dash.participation",
            bars,
            height,
            [translate(lang, "dash.org"), translate(lang, "dash.members"),
             translate(lang, "dash.participants"), translate(lang, "dash.rate")],
            [
                [_name(lang, f, board), _count(f.members, f), _count(f.participants, f), text]
                for f, (_, _, text) in zip(rows, participation, strict=True)
            ],
        )
    )  # fmt: skip
    total = board.total
    hours = [
        (
            translate(lang, f"area.{a}"),
            *shown(total, total.hours_per_member.get(a), _hours(total.hours_per_member.get(a))),
        )
        for a in QUALITY_AREAS
    ]
    bars, height = _bars(hours)
    out.append(
        Chart(
            "dash.hours",
            bars,
            height,
            [translate(lang, "dash.area"), translate(lang, "dash.hours_per_member")],
            [[label, text] for label, _, text in hours],
        )
    )
    money = [
        (
            _name(lang, f, board),
            *shown(f, None if f.spent_fen is None else f.spent_fen / 100, yuan(f.spent_fen)),
        )
        for f in rows
    ]
    bars, height = _bars(money)
    out.append(
        Chart(
            "dash.money",
            bars,
            height,
            [translate(lang, "dash.org"), translate(lang, "dash.spent"),
             translate(lang, "dash.committed")],
            [
                [label, text, "" if f.suppressed else yuan(f.committed_fen)]
                for f, (label, _, text) in zip(rows, money, strict=True)
            ],
        )
    )  # fmt: skip
    adoption = [(_name(lang, f, board), *_adopted(f, lang)) for f in rows]
    bars, height = _bars(adoption)
    out.append(
        Chart(
            "dash.adoption",
            bars,
            height,
            [translate(lang, "dash.org"), translate(lang, "dash.evaluated"),
             translate(lang, "dash.adopted"), translate(lang, "dash.rate")],
            [
                [label, _count(f.adoption.evaluated if f.adoption else None, f),
                 _count(f.adoption.adopted if f.adoption else None, f), text]
                for f, (label, _, text) in zip(rows, adoption, strict=True)
            ],
        )
    )  # fmt: skip
    return out


def _count(value: int | None, f: OrgFigures) -> str:
    return "" if f.suppressed or value is None else format_number(value)


def _hours(value: float | None) -> str:
    return "" if value is None else format_number(round(value, 1))


def _adopted(f: OrgFigures, lang: str) -> tuple[float | None, str]:
    if f.adoption is None:
        return None, translate(lang, "dash.no_figures")
    if f.adoption.suppressed or f.adoption.rate is None:
        return None, translate(lang, "dash.suppressed")
    return f.adoption.rate, percent(f.adoption.rate)


# -- exports --------------------------------------------------------------------------------


def export_header(lang: str) -> list[str]:
    return [
        translate(lang, "dash.org_id"),
        translate(lang, "dash.org"),
        translate(lang, "dash.suppressed_col"),
        translate(lang, "dash.members"),
        translate(lang, "dash.participants"),
        translate(lang, "dash.rate"),
        *(f"{translate(lang, 'dash.hours_per_member')}: {translate(lang, f'area.{a}')}"
          for a in QUALITY_AREAS),
        translate(lang, "dash.spent_yuan"),
        translate(lang, "dash.committed_yuan"),
        translate(lang, "dash.evaluated"),
        translate(lang, "dash.adopted"),
        translate(lang, "dash.adoption_rate"),
    ]  # fmt: skip


def export_rows(board: Dashboard) -> list[list[Cell]]:
    """What the page shows, as numbers a spreadsheet can sum (suppressed: empty cells)."""
    rows: list[list[Cell]] = []
    for f in board.shown:
        a = f.adoption if f.adoption and not f.adoption.suppressed else None
        if f.suppressed:
            figures: list[Cell] = [None] * (3 + len(QUALITY_AREAS) + 2)
        else:
            figures = [
                f.members,
                f.participants,
                f.participation_rate,
                *(f.hours_per_member.get(area) for area in QUALITY_AREAS),
                None if f.spent_fen is None else f.spent_fen / 100,
                None if f.committed_fen is None else f.committed_fen / 100,
            ]
        rows.append(
            [
                f.org_id,
                f.name,
                "yes" if f.suppressed else "no",
                *figures,
                a.evaluated if a else None,
                a.adopted if a else None,
                a.rate if a else None,
            ]
        )
    return rows
