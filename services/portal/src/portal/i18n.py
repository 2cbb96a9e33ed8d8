# Chinese text is written with Chinese punctuation (full-width comma and colon).
# ruff: noqa: RUF001
"""The portal's two languages: a message catalogue (Chinese first, the default) and dates
shown in the federation's time zone, written the way each language writes them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from portal.messages import dashboards, enrollment, honours, nominations

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "bigschool_lang"

# key: (zh, en)
MESSAGES: dict[str, tuple[str, str]] = {
    "site": ("职工大学堂", "Big School"),
    "skip": ("跳到正文", "Skip to content"),
    "nav.programmes": ("活动项目", "Programmes"),
    "nav.enrollments": ("我的报名", "My enrollments"),
    "nav.inbox": ("消息", "Inbox"),
    "nav.approvals": ("审批", "Approvals"),
    "nav.mine": ("我的", "Mine"),
    "nav.work": ("工作台", "Work"),
    "unread": ("未读", "unread"),
    "signin": ("登录", "Sign in"),
    "signout": ("退出", "Sign out"),
    "signin.title": ("选择演示人员登录", "Sign in as a demo person"),
    "signin.intro": (
        "本地演示：选择一位人员，门户以其身份签发令牌。",
        "Local demo: choose a person; the portal issues their token.",
    ),
    "signin.none": ("没有配置演示人员。", "No demo people are configured."),
    "signin.as": ("以此身份登录", "Sign in as"),
    "role.member": ("会员", "member"),
    "role.cadre": ("工会干部", "cadre"),
    "role.admin": ("管理员", "administrator"),
    "role.reviewer": ("评审 / 审核", "reviewer"),
    "lang.switch": ("语言", "Language"),
    "programmes.title": ("向我开放的活动项目", "Programmes open to me"),
    "filter.area": ("素质领域", "Quality area"),
    "filter.kind": ("类型", "Kind"),
    "filter.from": ("开始不早于", "Starting from"),
    "filter.q": ("搜索标题", "Search titles"),
    "filter.any": ("全部", "Any"),
    "filter.apply": ("筛选", "Filter"),
    "programmes.empty": (
        "没有符合条件的项目。请放宽筛选条件，或稍后再来看看。",
        "No programme matches. Widen the filters, or look again later.",
    ),
    "next_page": ("下一页", "Next page"),
    "first_page": ("第一页", "First page"),
    "details": ("详情", "Details"),
    "starts": ("开始", "Starts"),
    "ends": ("结束", "Ends"),
    "hours": ("学时", "Hours"),
    "capacity": ("名额", "Seats"),
    "place": ("地点", "Place"),
    "owner": ("主办组织", "Organised by"),
    "closes": ("报名截止", "Enrollment closes"),
    "enrol": ("报名", "Enrol"),
    "enrol.sent": (
        "报名申请已提交，结果将通知您。",
        "Your request was sent; you will be told the outcome.",
    ),
    "enrollments.title": ("我的报名", "My enrollments"),
    "enrollments.empty": (
        "您还没有报名。去“活动项目”选择一个吧。",
        "You have no enrollments yet. Choose one under Programmes.",
    ),
    "programme": ("项目", "Programme"),
    "status": ("状态", "Status"),
    "position": ("候补位次", "Waitlist position"),
    "offer_until": ("名额保留至", "Offer open until"),
    "requested_at": ("申请时间", "Requested"),
    "cancel": ("取消报名", "Cancel"),
    "cancel.sent": ("已申请取消。", "Cancellation requested."),
    "accept": ("接受名额", "Accept offer"),
    "accept.sent": ("已接受名额。", "Offer accepted."),
    "status.requested": ("处理中", "requested"),
    "status.pending_approval": ("待审批", "awaiting approval"),
    "status.confirmed": ("已确认", "confirmed"),
    "status.waitlisted": ("候补中", "waitlisted"),
    "status.offered": ("有名额待接受", "seat offered"),
    "status.cancelled": ("已取消", "cancelled"),
    "status.rejected": ("未通过", "rejected"),
    "status.pending_budget": ("待预算确认", "awaiting budget"),
    "status.refused": ("未获名额", "refused"),
    "status.attended": ("已参加", "attended"),
    "status.no_show": ("缺席", "no-show"),
    "status.completed": ("已完成", "completed"),
    "inbox.title": ("我的消息", "My inbox"),
    "inbox.empty": (
        "暂无消息。报名结果和通知会出现在这里。",
        "Nothing yet. Enrollment outcomes and notices will appear here.",
    ),
    "inbox.read": ("标为已读", "Mark read"),
    "inbox.read_all": ("全部标为已读", "Mark all read"),
    "inbox.new": ("新", "new"),
    "approvals.title": ("待审批的报名", "Enrollments awaiting approval"),
    "approvals.empty": ("没有待审批的申请。", "No request is waiting for you."),
    "member": ("会员", "Member"),
    "error.title": ("出错了", "Something went wrong"),
    "error.403": (
        "您无权查看此页面。如需访问，请联系您所在工会的干部。",
        "You may not open this page. Ask your union's cadre if you need it.",
    ),
    "error.404": ("未找到该页面或记录。", "That page or record was not found."),
    "error.csrf": (
        "表单已过期或来源不明，请返回重试。",
        "The form expired or did not come from this site. Go back and try again.",
    ),
    "error.api": (
        "服务暂时无法完成请求，请稍后再试。",
        "The service could not complete the request. Try again shortly.",
    ),
    "back": ("返回首页", "Back to the start"),
    "area.ethics": ("思想道德", "Ethics"),
    "area.science_culture": ("科学文化", "Science and culture"),
    "area.technical_skills": ("技术技能", "Technical skills"),
    "area.safety_health": ("安全健康", "Safety and health"),
    "kind.training_course": ("培训课程", "Training course"),
    "kind.knowledge_contest": ("知识竞赛", "Knowledge contest"),
    "kind.speech_contest": ("演讲比赛", "Speech contest"),
    "kind.lecture": ("讲座", "Lecture"),
    "kind.reading_activity": ("读书活动", "Reading activity"),
    "kind.skills_competition": ("技能竞赛", "Skills competition"),
    "kind.mentoring": ("师带徒", "Mentoring"),
    "kind.fitness_activity": ("健身活动", "Fitness activity"),
    "kind.cultural_performance": ("文艺演出", "Cultural performance"),
    "kind.art_festival": ("艺术节", "Art festival"),
    "kind.exhibition": ("展览", "Exhibition"),
    "kind.online_course": ("网络课程", "Online course"),
}
for _area in (enrollment, honours, nominations, dashboards):
    _twice = MESSAGES.keys() & _area.MESSAGES.keys()
    assert not _twice, f"message keys defined twice: {sorted(_twice)}"
    MESSAGES.update(_area.MESSAGES)

QUALITY_AREAS = ("ethics", "science_culture", "technical_skills", "safety_health")
KINDS = tuple(k.removeprefix("kind.") for k in MESSAGES if k.startswith("kind."))

MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def pick(code: str | None) -> str:
    return code if code in LANGUAGES else DEFAULT


def translate(lang: str, key: str) -> str:
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def format_datetime(value: datetime | str | None, lang: str, zone: ZoneInfo) -> str:
    """An instant as a person reads it, in the federation's time zone."""
    if value is None or value == "":
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = at.astimezone(zone)
    if lang == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"


def format_number(value: float) -> str:
    """Both languages group thousands with a comma and use a decimal point."""
    return f"{value:,.1f}".removesuffix(".0")
