# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
# ruff: noqa: RUF001
"""Message templates per event type and language (`zh`, `en`), as plain format strings.

Templates only ever see pre-formatted text fields (see `_fields`): `{name}`, `{programme}`,
`{hours}`, `{reason}`, `{event}`, `{cancel}` (the one-click cancel line, when there is a
link). A field an event lacks renders as an empty string rather than failing, so an event
that grew (or lost) an optional field still produces a readable message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.contracts.events import EnrollmentConfirmed, EnrollmentRefused, EnrollmentWaitlisted

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


def _fields(event_type: str, language: str, data: Mapping[str, Any], name: str) -> _Blank:
    hours = data.get("hours")
    reason = str(data.get("reason", ""))
    return _Blank(
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
    template = TEMPLATES.get(event_type, FALLBACK)[lang]
    fields = _fields(event_type, lang, data, name)
    return Rendered(
        subject=_one_line(template.subject.format_map(fields)),
        title=_one_line(template.title.format_map(fields))[:TITLE_MAX],
        body=template.body.format_map(fields) + SIGNATURE[lang],
    )


def _one_line(text: str) -> str:
    # A line break in a header would be refused by the mail library (or split the header).
    return " ".join(text.split())
