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

A new event type plugs in here with its templates (`TEMPLATES`, or `VARIANTS` when what the
member reads depends on a value of the event) and, if it needs fields of its own, a function
in `EVENT_FIELDS`; and with a rule in `notifications.service.rules` (who is told).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.domain.digest import DIGEST
from notifications.domain.notices import (
    APPROVAL_NEEDED,
    ENDORSEMENT_NEEDED,
    OBJECTION_FILED,
    PROGRAMME_REMINDER,
    REVIEW_NEEDED,
    VETO_CHECK_NEEDED,
)
from notifications.webhooks.domain import WEBHOOK_DISABLED
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
    HonourKind,
    NominationDecided,
    NominationFiled,
    NominationReturned,
    NoticePublished,
    ProgrammeChanged,
    ProposalEvaluated,
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
    # The daily digest (service/digest.py): the titles of what was held for it.
    DIGEST: {
        "zh": Template(
            subject="每日通知汇总（{date}）：共 {count}",
            title="每日通知汇总：共 {count}",
            body="{name}，您好！\n\n以下是您 {date} 的通知汇总，共 {count}：\n\n{items}{more}"
            "\n\n详情请登录职工大学校查看。",
        ),
        "en": Template(
            subject="Your daily digest for {date}: {count}",
            title="Daily digest: {count}",
            body="Dear {name},\n\nhere is your digest for {date}, {count} in all:\n\n"
            "{items}{more}\n\nSign in to Big School for the details.",
        ),
    },
    NoticePublished.ce_type: {
        "zh": Template(
            subject="评选公示：{scheme}",
            title="评选公示：{scheme}",
            body="{name}，您好！\n\n{owner}发布了“{scheme}”的评选公示，公示期至 {ends}。"
            "\n\n请登录职工大学校，在“评选公示”中查看入围名单（公示编号：{notice}）。"
            "如对入围人选有异议，请在公示期内于该公示页面提出异议并说明理由。",
        ),
        "en": Template(
            subject="Public notice: {scheme}",
            title="Public notice: {scheme}",
            body="Dear {name},\n\n{owner} has published the shortlist of “{scheme}” for "
            "public notice until {ends}.\n\nSign in to Big School and open "
            "Public notices to read it (notice {notice}). If you object to a shortlisted "
            "nomination, file your objection with your reasons on the notice's page before "
            "the notice period ends.",
        ),
    },
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
    EnrollmentOffered.ce_type: {
        "zh": Template(
            subject="候补名额待您确认（{deadline} 前）：{programme}",
            title="候补名额待您确认：{programme}",
            body="{name}，您好！\n\n“{programme}”有名额空出，现为您保留至 {deadline}。"
            "请在此之前登录职工大学校确认参加；逾期未确认，名额将顺延给下一位候补。",
        ),
        "en": Template(
            subject="A seat is yours until {deadline}: {programme}",
            title="A seat is offered to you: {programme}",
            body="Dear {name},\n\na seat has freed up in “{programme}” and is held for you "
            "until {deadline}. Please sign in to Big School to take it before then; after "
            "that it passes to the next person on the waiting list.",
        ),
    },
    EnrollmentOfferExpired.ce_type: {
        "zh": Template(
            subject="名额保留已过期：{programme}",
            title="名额保留已过期：{programme}",
            body="{name}，您好！\n\n为您保留的“{programme}”名额未在期限内确认，"
            "已顺延给下一位候补。",
        ),
        "en": Template(
            subject="Seat offer expired: {programme}",
            title="Seat offer expired: {programme}",
            body="Dear {name},\n\nthe seat offered to you in “{programme}” was not taken in "
            "time and has passed to the next person on the waiting list.",
        ),
    },
    EnrollmentCompleted.ce_type: {
        "zh": Template(
            subject="学习完成：{programme}",
            title="学习完成：{programme}",
            body="{name}，您好！\n\n您已完成“{programme}”，计入 {hours} 学时{result}。\n\n祝贺您！",
        ),
        "en": Template(
            subject="Programme completed: {programme}",
            title="Programme completed: {programme}",
            body="Dear {name},\n\nyou have completed “{programme}”: {hours} hours go to your "
            "learning record{result}. Congratulations!",
        ),
    },
    CertificateIssued.ce_type: {
        "zh": Template(
            subject="结业证书已签发：{programme}",
            title="结业证书已签发：{programme}",
            body="{name}，您好！\n\n您“{programme}”的结业证书已签发，证书编号 {certificate}。"
            "请登录职工大学校查看或下载。",
        ),
        "en": Template(
            subject="Certificate issued: {programme}",
            title="Certificate issued: {programme}",
            body="Dear {name},\n\nyour certificate for “{programme}” has been issued "
            "(no. {certificate}). Sign in to Big School to view or download it.",
        ),
    },
    NominationReturned.ce_type: {
        "zh": Template(
            subject="评选推荐已退回修改",
            title="评选推荐已退回修改",
            body="{name}，您好！\n\n您{team}的评选推荐已被{by}退回所在单位修改。{because}",
        ),
        "en": Template(
            subject="Your nomination was returned for correction",
            title="Nomination returned for correction",
            body="Dear {name},\n\n{by} has returned your nomination{team} to your union for "
            "correction.{because}",
        ),
    },
    WEBHOOK_DISABLED: {
        "zh": Template(
            subject="Webhook 已停用：{webhook}",
            title="Webhook 已停用：{webhook}",
            body="{name}，您好！\n\n您创建的 Webhook“{webhook}”（{url}）自 {since} 起"
            "持续投递失败已超过 {hours} 小时，系统已将其停用，其待发消息暂停发送。"
            "请检查接收端后在管理接口重新启用；停用期间的消息可按时间段重放。",
        ),
        "en": Template(
            subject="Webhook disabled: {webhook}",
            title="Webhook disabled: {webhook}",
            body="Dear {name},\n\nevery delivery to the webhook “{webhook}” ({url}) that you "
            "created has failed since {since}, for more than {hours} hours, so it has been "
            "disabled and its pending messages wait. Please check the receiver, then enable "
            "it again through the admin API; messages of the outage can be replayed by time "
            "range.",
        ),
    },
}

# Needs-action notices to staff (service/staff_rules.py), programme reminders and changes
# (service/reminders.py), and the nominees' notice of a filing.
TEMPLATES.update(
    {
        APPROVAL_NEEDED: {
            "zh": Template(
                subject="待审批：{programme} 报名申请",
                title="待审批报名：{programme}",
                body="{name}，您好！\n\n{who}申请报名参加“{programme}”（{requested} 提交），"
                "需经{org}审批。请登录职工大学校审批。",
            ),
            "en": Template(
                subject="Enrollment to approve: {programme}",
                title="Enrollment to approve: {programme}",
                body="Dear {name},\n\n{who} asks to enroll in “{programme}” (on {requested}); "
                "{org} must approve it first. Please sign in to Big School to approve or "
                "reject it.",
            ),
        },
        ENDORSEMENT_NEEDED: {
            "zh": Template(
                subject="待推荐审核：“{scheme}”评选推荐",
                title="待推荐审核：{scheme}",
                body="{name}，您好！\n\n一份“{scheme}”的评选推荐{team}（编号 {nomination}）"
                "等待{org}审核推荐。请登录职工大学校推荐或退回。",
            ),
            "en": Template(
                subject="Nomination to endorse: {scheme}",
                title="Nomination to endorse: {scheme}",
                body="Dear {name},\n\na nomination for “{scheme}”{team} (no. {nomination}) "
                "waits for the endorsement of {org}. Please sign in to Big School to endorse "
                "it or return it.",
            ),
        },
        VETO_CHECK_NEEDED: {
            "zh": Template(
                subject="待征求意见：“{scheme}”评选推荐",
                title="待征求意见：{scheme}",
                body="{name}，您好！\n\n一份“{scheme}”的评选推荐{team}（编号 {nomination}）"
                "需要{department}出具意见。请登录职工大学校审查。",
            ),
            "en": Template(
                subject="Veto check needed: {scheme}",
                title="Veto check needed: {scheme}",
                body="Dear {name},\n\na nomination for “{scheme}”{team} (no. {nomination}) "
                "waits for the check of {department}. Please sign in to Big School to clear "
                "or veto it.",
            ),
        },
        REVIEW_NEEDED: {
            "zh": Template(
                subject="待评审：“{scheme}”评选推荐",
                title="待评审：{scheme}",
                body="{name}，您好！\n\n一份“{scheme}”的评选推荐{team}（编号 {nomination}）"
                "已进入评审。请登录职工大学校评分。",
            ),
            "en": Template(
                subject="Nomination to review: {scheme}",
                title="Nomination to review: {scheme}",
                body="Dear {name},\n\na nomination for “{scheme}”{team} (no. {nomination}) is "
                "ready for your panel's review. Please sign in to Big School to score it.",
            ),
        },
        OBJECTION_FILED: {
            "zh": Template(
                subject="收到异议：{scheme}",
                title="收到异议：{scheme}",
                body="{name}，您好！\n\n{submitted} 收到一份针对“{scheme}”公示中评选推荐"
                "（编号 {nomination}）的异议。请登录职工大学校查看并答复。",
            ),
            "en": Template(
                subject="Objection filed: {scheme}",
                title="Objection filed: {scheme}",
                body="Dear {name},\n\nan objection to nomination {nomination} on the public "
                "notice of “{scheme}” was filed on {submitted}. Please sign in to Big School to "
                "read and answer it.",
            ),
        },
        PROGRAMME_REMINDER: {
            "zh": Template(
                subject="开课提醒：{programme}（{starts} 开始）",
                title="开课提醒：{programme}",
                body="{name}，您好！\n\n您报名参加的“{programme}”将于 {starts} 开始{place}。"
                "请准时参加。",
            ),
            "en": Template(
                subject="Reminder: {programme} starts {starts}",
                title="Reminder: {programme}",
                body="Dear {name},\n\n“{programme}”, in which you hold a seat, starts at "
                "{starts}{place}. See you there!",
            ),
        },
        ProgrammeChanged.ce_type: {
            "zh": Template(
                subject="项目变更：{programme}",
                title="项目变更：{programme}",
                body="{name}，您好！\n\n您已报名的“{programme}”有变更：{changes}。"
                "\n\n现在的安排：{starts} 至 {ends}{place}。",
            ),
            "en": Template(
                subject="Programme changed: {programme}",
                title="Programme changed: {programme}",
                body="Dear {name},\n\n“{programme}”, in which you hold a seat, has changed: "
                "{changes}.\n\nNow: {starts} to {ends}{place}.",
            ),
        },
        NominationFiled.ce_type: {
            "zh": Template(
                subject="您已被推荐参评“{scheme}”",
                title="您已被推荐参评“{scheme}”",
                body="{name}，您好！\n\n{by}已推荐您{team}参评“{scheme}”。推荐将逐级审核，"
                "有结果时我们会通知您。",
            ),
            "en": Template(
                subject="You have been nominated for “{scheme}”",
                title="Nominated for “{scheme}”",
                body="Dear {name},\n\n{by} has nominated you{team} for “{scheme}”. The "
                "nomination now goes through its review; we will tell you of the outcome.",
            ),
        },
    }
)

# What a programme's changed fields are called in a notice; another field shows its name.
CHANGED_FIELDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "名称",
        "starts_at": "开始时间",
        "ends_at": "结束时间",
        "place": "地点",
        "online_link": "线上链接",
        "capacity": "名额",
        "hours": "学时",
        "enrollment_closes_at": "报名截止时间",
    },
    "en": {
        "title": "title",
        "starts_at": "start",
        "ends_at": "end",
        "place": "place",
        "online_link": "online link",
        "capacity": "seats",
        "hours": "hours",
        "enrollment_closes_at": "enrollment deadline",
    },
}

# Phrases of the notices above, present only when the notice has the value.
ACTION_PHRASES: dict[str, dict[str, str]] = {
    "zh": {"team": "（集体：{team}）", "place": "，地点：{place}", "someone": "一名会员"},
    "en": {"team": " (team: {team})", "place": ", at {place}", "someone": "A member"},
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

# Event types whose message depends on one of their values: the value, then its templates.
CANCELLED_TEMPLATES: dict[str, dict[str, Template]] = {
    "owner": {
        "zh": Template(
            subject="报名已被取消：{programme}",
            title="报名已被取消：{programme}",
            body="{name}，您好！\n\n主办单位已取消您在“{programme}”的报名。"
            "如有疑问，请联系主办单位。",
        ),
        "en": Template(
            subject="Enrollment cancelled: {programme}",
            title="Enrollment cancelled: {programme}",
            body="Dear {name},\n\nthe organiser has cancelled your enrollment in "
            "“{programme}”. Please contact them with any questions.",
        ),
    },
    "programme_cancelled": {
        "zh": Template(
            subject="项目已取消：{programme}",
            title="项目已取消：{programme}",
            body="{name}，您好！\n\n“{programme}”已取消，您的报名随之取消。",
        ),
        "en": Template(
            subject="Programme cancelled: {programme}",
            title="Programme cancelled: {programme}",
            body="Dear {name},\n\n“{programme}” has been cancelled, and your enrollment with it.",
        ),
    },
}

DECISION_TEMPLATES: dict[str, dict[str, Template]] = {
    "granted": {
        "zh": Template(
            subject="评选结果：您的推荐已获通过",
            title="评选结果：推荐已获通过",
            body="{name}，您好！\n\n经{by}决定，您{team}的评选推荐已获通过，荣誉予以授予"
            "{cash}。{because}\n\n谨致热烈祝贺！",
        ),
        "en": Template(
            subject="Nomination decided: granted",
            title="Nomination decided: granted",
            body="Dear {name},\n\n{by} has decided on your nomination{team}: the honour is "
            "granted{cash}.{because}\n\nCongratulations!",
        ),
    },
    "rejected": {
        "zh": Template(
            subject="评选结果：您的推荐未获通过",
            title="评选结果：推荐未获通过",
            body="{name}，您好！\n\n经{by}决定，您{team}的评选推荐未获通过。{because}",
        ),
        "en": Template(
            subject="Nomination decided: not granted",
            title="Nomination decided: not granted",
            body="Dear {name},\n\n{by} has decided on your nomination{team}: the honour is "
            "not granted.{because}",
        ),
    },
}

# Phrases of an honour's message that depend on whether the event has the value.
# A rationalization proposal's evaluation, one message per step (the reward itself is an
# honour: HONOUR_TEMPLATES["proposal_reward"]).
PROPOSAL_TEMPLATES: dict[str, dict[str, Template]] = {
    "reject": {
        "zh": Template(
            subject="合理化建议未被采纳：{proposal}",
            title="合理化建议未被采纳：{proposal}",
            body="{name}，您好！\n\n{by}评审了您的合理化建议“{proposal}”，决定不予采纳。"
            "{because}\n\n感谢您的参与，欢迎继续提出建议。",
        ),
        "en": Template(
            subject="Proposal not adopted: {proposal}",
            title="Proposal not adopted: {proposal}",
            body="Dear {name},\n\n{by} has evaluated your proposal “{proposal}” and decided "
            "not to adopt it.{because}\n\nThank you, and do keep your ideas coming.",
        ),
    },
    "adopt": {
        "zh": Template(
            subject="合理化建议已被采纳：{proposal}",
            title="合理化建议已被采纳：{proposal}",
            body="{name}，您好！\n\n您的合理化建议“{proposal}”已被{by}采纳。{because}",
        ),
        "en": Template(
            subject="Proposal adopted: {proposal}",
            title="Proposal adopted: {proposal}",
            body="Dear {name},\n\nyour proposal “{proposal}” has been adopted by {by}.{because}",
        ),
    },
    "trial": {
        "zh": Template(
            subject="合理化建议进入试行：{proposal}",
            title="合理化建议进入试行：{proposal}",
            body="{name}，您好！\n\n您的合理化建议“{proposal}”已由{by}安排试行。{because}",
        ),
        "en": Template(
            subject="Proposal on trial: {proposal}",
            title="Proposal on trial: {proposal}",
            body="Dear {name},\n\n{by} has put your proposal “{proposal}” on trial.{because}",
        ),
    },
    "assess": {
        "zh": Template(
            subject="合理化建议效益已评定：{proposal}",
            title="合理化建议效益已评定：{proposal}",
            body="{name}，您好！\n\n{by}评定您的合理化建议“{proposal}”的年度效益为 "
            "{benefit} 元，奖励将按奖励标准核定。{because}",
        ),
        "en": Template(
            subject="Proposal assessed: {proposal}",
            title="Proposal assessed: {proposal}",
            body="Dear {name},\n\n{by} has assessed the yearly benefit of your proposal "
            "“{proposal}” at {benefit} yuan; the reward follows the reward table.{because}",
        ),
    },
}

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

# Phrases of the other events' messages, present only when the event has the value.
PHRASES: dict[str, dict[str, str]] = {
    "zh": {
        "score": "，成绩 {score} 分",
        "rank": "，名次第 {rank} 名",
        "team": "所在的集体“{team}”",
        "because": "\n\n事由：{reason}",
        "cash": "，奖金 {yuan} 元",
    },
    "en": {
        "score": ", with a score of {score}",
        "rank": ", ranked {rank}",
        "team": " (your team, {team})",
        "because": "\n\nReason: {reason}",
        "cash": ", with {yuan} yuan",
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


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else ""


def _offer_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    # The deadline in the federation's time zone, as planning wrote it.
    return {"deadline": str(data.get("offer_deadline") or data.get("offer_expires_at") or "")}


def _completion_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    phrase = PHRASES[language]
    score, rank = _number(data.get("score")), data.get("rank")
    result = phrase["score"].format(score=score) if score else ""
    result += phrase["rank"].format(rank=rank) if isinstance(rank, int) else ""
    return {"result": result}


def _certificate_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {"certificate": str(data.get("certificate_id", ""))}


def _nomination_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    phrase = PHRASES[language]
    state = data.get("state")
    team = state.get("team_name") if isinstance(state, Mapping) else None
    reason, fen = data.get("reason"), data.get("amount_fen")
    return {
        # The acting org's name as this node knows it (planning adds it), else its id.
        "by": str(data.get("actor_org_name") or data.get("actor_org") or ""),
        "team": phrase["team"].format(team=team) if team else "",
        "because": phrase["because"].format(reason=reason) if reason else "",
        "cash": phrase["cash"].format(yuan=yuan(fen)) if isinstance(fen, int) and fen > 0 else "",
    }


def _scheme(data: Mapping[str, Any]) -> str:
    # The scheme's title as the local store knows it (planning adds it), else its id.
    state = data.get("state")
    scheme_id = state.get("scheme_id") if isinstance(state, Mapping) else None
    return str(data.get("scheme_title") or data.get("scheme_id") or scheme_id or "")


def _filed_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {**_nomination_fields(language, data), "scheme": _scheme(data)}


def _action_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    phrase = ACTION_PHRASES[language]
    team, member = data.get("team_name"), data.get("member_name")
    return {
        # An objection names no scheme: its notice's, when this node keeps the notice.
        "scheme": _scheme(data) or str(data.get("nomination_id") or ""),
        "org": str(data.get("org_name") or data.get("org_id") or ""),
        "department": str(data.get("department") or ""),
        "nomination": str(data.get("nomination_id") or ""),
        "team": phrase["team"].format(team=team) if team else "",
        "who": str(member) if member else phrase["someone"],
        "requested": str(data.get("requested_at") or ""),
        "submitted": str(data.get("submitted_at") or ""),
    }


def _schedule_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    place, changed = data.get("place"), data.get("changed")
    names = CHANGED_FIELDS[language]
    separator = "、" if language == "zh" else ", "
    changes = [names.get(str(f), str(f)) for f in changed] if isinstance(changed, list) else []
    return {
        "starts": str(data.get("starts_at") or ""),
        "ends": str(data.get("ends_at") or ""),
        "place": ACTION_PHRASES[language]["place"].format(place=place) if place else "",
        "changes": separator.join(changes),
    }


def _proposal_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    phrase = PHRASES[language]
    note, fen = data.get("note"), data.get("benefit_fen")
    return {
        "proposal": str(data.get("title", "")),
        # The evaluating org's name as this node knows it (planning adds it), else its id.
        "by": str(data.get("evaluating_org_name") or data.get("evaluating_org") or ""),
        "benefit": yuan(fen) if isinstance(fen, int) and fen >= 0 else "",
        "because": phrase["because"].format(reason=note) if note else "",
    }


def _decision_of(data: Mapping[str, Any]) -> str:
    state = data.get("state")
    status = state.get("status") if isinstance(state, Mapping) else None
    return "granted" if status == "granted" else "rejected"


def _webhook_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {
        "webhook": str(data.get("description") or data.get("subscription_id") or ""),
        "url": str(data.get("url", "")),
        "since": str(data.get("failing_since") or ""),
    }


def _notice_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {
        "scheme": str(data.get("scheme_title") or data.get("scheme_id") or ""),
        # The owner org's name as this node knows it (the fan-out adds it), else its id.
        "owner": str(data.get("owner_org_name") or data.get("owner_org") or ""),
        # The end in the federation's time zone, as the fan-out wrote it.
        "ends": str(data.get("notice_ends") or data.get("ends_at") or ""),
        "notice": str(data.get("notice_id", "")),
    }


DIGEST_PHRASES: dict[str, dict[str, str]] = {
    "zh": {"one": "1 条", "many": "{n} 条", "more": "\n……另有 {n} 条"},
    "en": {"one": "1 notice", "many": "{n} notices", "more": "\n… and {n} more"},
}


def _digest_fields(language: str, data: Mapping[str, Any]) -> dict[str, str]:
    """Each held item's title, rendered in the reader's language; `more`: items not listed."""
    items = data.get("items")
    listed = [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
    more = data.get("more")
    more = more if isinstance(more, int) and more > 0 else 0
    total, phrase = len(listed) + more, DIGEST_PHRASES[language]
    return {
        "date": str(data.get("date", "")),
        "count": phrase["one"] if total == 1 else phrase["many"].format(n=total),
        "items": "\n".join(f"• {_item_title(language, item)}" for item in listed),
        "more": phrase["more"].format(n=more) if more else "",
    }


def _item_title(language: str, item: Mapping[str, Any]) -> str:
    event_type, data = str(item.get("event_type", "")), item.get("data")
    if event_type == DIGEST or not isinstance(data, Mapping):
        event_type, data = "", {}  # never a digest in a digest: the generic title
    try:
        return render(event_type, language, data, "").title
    except Exception:  # one item's fault must not lose the digest
        return FALLBACK[language].title


Fields = Callable[[str, Mapping[str, Any]], dict[str, str]]

# The fields an event type adds to the common ones (see `_fields`), from its language and data.
EVENT_FIELDS: dict[str, Fields] = {
    NoticePublished.ce_type: _notice_fields,
    HonourGranted.ce_type: _honour_fields,
    EnrollmentOffered.ce_type: _offer_fields,
    EnrollmentCompleted.ce_type: _completion_fields,
    CertificateIssued.ce_type: _certificate_fields,
    NominationReturned.ce_type: _nomination_fields,
    NominationDecided.ce_type: _nomination_fields,
    ProposalEvaluated.ce_type: _proposal_fields,
    WEBHOOK_DISABLED: _webhook_fields,
    NominationFiled.ce_type: _filed_fields,
    **dict.fromkeys(
        (APPROVAL_NEEDED, ENDORSEMENT_NEEDED, VETO_CHECK_NEEDED, REVIEW_NEEDED, OBJECTION_FILED),
        _action_fields,
    ),
    PROGRAMME_REMINDER: _schedule_fields,
    ProgrammeChanged.ce_type: _schedule_fields,
    DIGEST: _digest_fields,
}

# Event types with one message per value of the event (the value, and the templates per value).
VARIANTS: dict[str, tuple[Callable[[Mapping[str, Any]], str], dict[str, dict[str, Template]]]] = {
    HonourGranted.ce_type: (lambda data: str(data.get("kind")), HONOUR_TEMPLATES),
    EnrollmentCancelled.ce_type: (lambda data: str(data.get("by")), CANCELLED_TEMPLATES),
    NominationDecided.ce_type: (_decision_of, DECISION_TEMPLATES),
    ProposalEvaluated.ce_type: (lambda data: str(data.get("step")), PROPOSAL_TEMPLATES),
}


def _template(event_type: str, data: Mapping[str, Any]) -> dict[str, Template]:
    if event_type in VARIANTS:
        variant_of, templates = VARIANTS[event_type]
        return templates.get(variant_of(data), FALLBACK)
    return TEMPLATES.get(event_type, FALLBACK)


def _fields(event_type: str, language: str, data: Mapping[str, Any], name: str) -> _Blank:
    hours = data.get("hours")
    reason = str(data.get("reason", ""))
    extra = EVENT_FIELDS[event_type](language, data) if event_type in EVENT_FIELDS else {}
    return _Blank(
        **extra,
        name=name,
        # A refusal for an unknown programme has no title: the id is better than a gap.
        programme=str(data.get("programme_title") or data.get("programme_id") or ""),
        hours=f"{hours:g}" if isinstance(hours, int | float) else "",
        reason=REASONS[language].get(reason, reason),
        event=event_type.removeprefix("bigschool.").rsplit(".", 1)[0],
        cancel=CANCEL_LINE[language].format(link=link) if (link := data.get("cancel_link")) else "",
    )


def render(
    event_type: str,
    language: str | None,
    data: Mapping[str, Any],
    name: str,
    template: Template | None = None,
) -> Rendered:
    """The message for one recipient, from `template` (an org's override) or the default.
    Values are inserted as text, never parsed as templates."""
    lang = language_of(language)
    template = template or _template(event_type, data)[lang]
    fields = _fields(event_type, lang, data, name)
    return Rendered(
        subject=_one_line(template.subject.format_map(fields)),
        title=_one_line(template.title.format_map(fields))[:TITLE_MAX],
        body=template.body.format_map(fields) + SIGNATURE[lang],
    )


def field_names(event_type: str, language: str) -> set[str]:
    """Every field a template of `event_type` is given (the common ones and its own)."""
    return set(_fields(event_type, language_of(language), {}, ""))


def _one_line(text: str) -> str:
    # A line break in a header would be refused by the mail library (or split the header).
    return " ".join(text.split())
