# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
# ruff: noqa: RUF001
"""Message templates per event type and language (`zh`, `en`), as plain format strings.

Templates only ever see pre-formatted text fields (see `_fields`): `{name}`, `{programme}`,
`{hours}`, `{reason}`, `{event}`, `{cancel}` (the one-click cancel line, when there is a
link); an honour's (one template per kind, see `_honour_fields`) also `{title}`,
`{granted_by}`, `{yuan}` (fen as yuan, two decimals), `{cash}`, `{team}`, `{because}` and
`{period}` (lines or phrases, empty when the event has no such value). A field an event
lacks renders as an empty string rather than failing, so an event that grew (or lost) an
optional field still produces a readable message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentWaitlisted,
    HonourGranted,
    HonourKind,
)

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
TITLE_MAX = 300  # inbox_items.title


@dataclass(frozen=True)
class Template:
    subject: str  # e-mail subject
    title: str  # in-app title
    body: str  # plain text of both


@dataclass(frozen=True)
class Rendered:
    subject: str
    title: str
    body: str


SIGNATURE = {"zh": "\n\n—— 职工大学校", "en": "\n\n— Big School"}

TEMPLATES: dict[str, dict[str, Template]] = {
    EnrollmentConfirmed.ce_type: {
        "zh": Template(
            subject="报名成功：{programme}",
            title="报名成功：{programme}",
            body="{name}，您好！\n\n您报名参加的“{programme}”已确认，计 {hours} 学时。{cancel}",
        ),
        "en": Template(
            subject="Enrollment confirmed: {programme}",
            title="Enrollment confirmed: {programme}",
            body="Dear {name},\n\nyour seat in “{programme}” is confirmed ({hours} hours).{cancel}",
        ),
    },
    EnrollmentWaitlisted.ce_type: {
        "zh": Template(
            subject="已进入候补名单：{programme}",
            title="已进入候补名单：{programme}",
            body="{name}，您好！\n\n“{programme}”暂无空余名额，您已进入候补名单。"
            "有名额时我们会再通知您。{cancel}",
        ),
        "en": Template(
            subject="On the waiting list: {programme}",
            title="On the waiting list: {programme}",
            body="Dear {name},\n\n“{programme}” has no free seat right now, so you are on its "
            "waiting list. We will tell you when a seat frees up.{cancel}",
        ),
    },
    EnrollmentRefused.ce_type: {
        "zh": Template(
            subject="报名未成功：{programme}",
            title="报名未成功：{programme}",
            body="{name}，您好！\n\n您报名参加“{programme}”的申请未被接受：{reason}。",
        ),
        "en": Template(
            subject="Enrollment not accepted: {programme}",
            title="Enrollment not accepted: {programme}",
            body="Dear {name},\n\nyour enrollment in “{programme}” was not accepted: {reason}.",
        ),
    },
}

# One `HonourGranted` type for every honour; what the member reads depends on its kind.
HONOUR_TEMPLATES: dict[str, dict[str, Template]] = {
    HonourKind.award: {
        "zh": Template(
            subject="荣誉通知：您已荣获“{title}”",
            title="您已荣获“{title}”",
            body="{name}，您好！\n\n经{granted_by}评定，您{team}已荣获“{title}”{cash}。"
            "{because}\n\n谨致热烈祝贺！",
        ),
        "en": Template(
            subject="Congratulations: you have been awarded “{title}”",
            title="You have been awarded “{title}”",
            body="Dear {name},\n\ncongratulations! {granted_by} has awarded “{title}” to "
            "you{team}{cash}.{because}",
        ),
    },
    HonourKind.reward: {
        "zh": Template(
            subject="即时奖励：{title}",
            title="即时奖励：{title}",
            body="{name}，您好！\n\n{granted_by}给予您即时奖励“{title}”，奖金 {yuan} 元。"
            "{because}\n\n感谢您的付出！",
        ),
        "en": Template(
            subject="Immediate reward: {title}",
            title="Immediate reward: {title}",
            body="Dear {name},\n\n{granted_by} has granted you an immediate reward, “{title}”, "
            "of {yuan} yuan.{because}\n\nThank you for your work!",
        ),
    },
    HonourKind.proposal_reward: {
        "zh": Template(
            subject="合理化建议奖励：{title}",
            title="合理化建议奖励：{title}",
            body="{name}，您好！\n\n您的合理化建议“{title}”已被采纳，{granted_by}给予奖励 "
            "{yuan} 元。{because}\n\n感谢您的建议！",
        ),
        "en": Template(
            subject="Reward for your proposal: {title}",
            title="Reward for your proposal: {title}",
            body="Dear {name},\n\nyour rationalization proposal “{title}” was adopted, and "
            "{granted_by} rewards it with {yuan} yuan.{because}\n\nThank you for your proposal!",
        ),
    },
    HonourKind.stipend: {
        "zh": Template(
            subject="荣誉津贴已发放：{title}",
            title="荣誉津贴已发放：{title}",
            body="{name}，您好！\n\n您“{title}”称号的{period}荣誉津贴 {yuan} 元已发放。"
            "\n\n感谢您的贡献！",
        ),
        "en": Template(
            subject="Stipend paid: {title}",
            title="Stipend paid: {title}",
            body="Dear {name},\n\nthe yearly stipend of your title “{title}”{period} has been "
            "paid: {yuan} yuan.",
        ),
    },
}

# Phrases of an honour's message that depend on whether the event has the value.
HONOUR_PHRASES: dict[str, dict[str, str]] = {
    "zh": {
        "cash": "，奖金 {yuan} 元",
        "team": "所在的集体“{team}”",
        "because": "\n\n事由：{reason}",
        "period": "{year}年度",
    },
    "en": {
        "cash": ", with {yuan} yuan",
        "team": " and your team, {team}",
        "because": "\n\nReason: {reason}",
        "period": " for {year}",
    },
}

# For an event type without its own template: still tell the member something happened.
FALLBACK: dict[str, Template] = {
    "zh": Template(
        subject="职工大学校通知",
        title="新通知",
        body="{name}，您好！\n\n您有一条新通知（{event}），请登录职工大学校查看详情。",
    ),
    "en": Template(
        subject="Big School notice",
        title="New notice",
        body="Dear {name},\n\nthere is news for you ({event}); please sign in to Big School "
        "for the details.",
    ),
}

# A one-click link to give the seat or place up, when the node issues them (planning adds it).
CANCEL_LINE = {
    "zh": "\n\n如不能参加，请点击此链接让出名额（无需登录，仅可使用一次）：\n{link}",
    "en": "\n\nCan't come? Give your place up with this link (no sign-in, works once):\n{link}",
}

REASONS: dict[str, dict[str, str]] = {
    "zh": {
        "already_enrolled": "您已报名该项目",
        "unknown_programme": "该项目不存在或已撤销",
        "not_in_audience": "该项目不面向您所在的工会组织",
        "closed": "报名已截止",
    },
    "en": {
        "already_enrolled": "you are already enrolled in it",
        "unknown_programme": "the programme does not exist or was withdrawn",
        "not_in_audience": "it is not open to your union",
        "closed": "enrollment has closed",
    },
}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly (no float): 123456 → "1,234.56"."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def _honour_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    fen = data.get("amount_fen")
    amount = yuan(fen) if isinstance(fen, int) and fen >= 0 else ""
    team, reason, year = data.get("team_name"), data.get("reason"), data.get("year")
    phrase = HONOUR_PHRASES[language]
    return {
        "title": str(data.get("title", "")),
        # The granting org's name as this node knows it (planning adds it), else its id.
        "granted_by": str(data.get("granting_org_name") or data.get("granting_org") or ""),
        "yuan": amount,
        "cash": phrase["cash"].format(yuan=amount) if fen else "",
        "team": phrase["team"].format(team=team) if team else "",
        "because": phrase["because"].format(reason=reason) if reason else "",
        "period": phrase["period"].format(year=year) if isinstance(year, int) else "",
    }


def _template(event_type: str, data: Mapping[str, Any]) -> dict[str, Template]:
    if event_type == HonourGranted.ce_type:
        return HONOUR_TEMPLATES.get(str(data.get("kind")), FALLBACK)
    return TEMPLATES.get(event_type, FALLBACK)


def _fields(event_type: str, language: str, data: Mapping[str, Any], name: str) -> _Blank:
    hours = data.get("hours")
    reason = str(data.get("reason", ""))
    honour = _honour_fields(language, data) if event_type == HonourGranted.ce_type else {}
    return _Blank(
        **honour,
        name=name,
        # A refusal for an unknown programme has no title: the id is better than a gap.
        programme=str(data.get("programme_title") or data.get("programme_id") or ""),
        hours=f"{hours:g}" if isinstance(hours, int | float) else "",
        reason=REASONS[language].get(reason, reason),
        event=event_type.removeprefix("bigschool.").rsplit(".", 1)[0],
        cancel=CANCEL_LINE[language].format(link=link) if (link := data.get("cancel_link")) else "",
    )


def render(event_type: str, language: str | None, data: Mapping[str, Any], name: str) -> Rendered:
    """The message for one recipient. Values are inserted as text, never parsed as templates."""
    lang = language_of(language)
    template = _template(event_type, data)[lang]
    fields = _fields(event_type, lang, data, name)
    return Rendered(
        subject=_one_line(template.subject.format_map(fields)),
        title=_one_line(template.title.format_map(fields))[:TITLE_MAX],
        body=template.body.format_map(fields) + SIGNATURE[lang],
    )


def _one_line(text: str) -> str:
    # A line break in a header would be refused by the mail library (or split the header).
    return " ".join(text.split())
