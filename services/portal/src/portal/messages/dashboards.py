# Chinese text is written with Chinese punctuation (full-width comma and colon).
# ruff: noqa: RUF001
"""Messages of the superior's dashboard and of OpenID Connect sign-in: key → (zh, en)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "nav.dashboard": ("数据看板", "Dashboard"),
    "nav.dashboard_programmes": ("下级活动", "Subtree programmes"),
    "dash.title": ("数据看板", "Dashboard"),
    "dash.year": ("年度", "Year"),
    "dash.show": ("查看", "Show"),
    "dash.trail": ("组织层级", "Org levels"),
    "dash.intro": (
        "本组织及其下级的汇总数据，不含任何会员个人信息。少于5人的组不显示数字。",
        "Totals of this org and everything below it; nothing about any one member. "
        "Groups of fewer than five are not shown.",
    ),
    "dash.total": ("合计", "Total"),
    "dash.org": ("组织", "Org"),
    "dash.org_id": ("组织编号", "Org id"),
    "dash.members": ("会员数", "Members"),
    "dash.participants": ("参与人数", "Participants"),
    "dash.rate": ("比率", "Rate"),
    "dash.area": ("素质领域", "Quality area"),
    "dash.hours_per_member": ("人均学时", "Hours per member"),
    "dash.spent": ("已支出", "Spent"),
    "dash.committed": ("已承诺", "Committed"),
    "dash.spent_yuan": ("已支出（元）", "Spent (yuan)"),
    "dash.committed_yuan": ("已承诺（元）", "Committed (yuan)"),
    "dash.evaluated": ("已评审建议", "Proposals decided"),
    "dash.adopted": ("已采纳", "Adopted"),
    "dash.adoption_rate": ("采纳率", "Adoption rate"),
    "dash.suppressed": ("人数过少，不显示", "too few to show"),
    "dash.suppressed_col": ("已隐藏", "Suppressed"),
    "dash.no_figures": ("暂无数据", "no figures yet"),
    "dash.participation": ("参与率", "Participation rate"),
    "dash.hours": ("按素质领域的人均学时", "Hours per member by quality area"),
    "dash.money": ("经费支出", "Money spent"),
    "dash.adoption": ("合理化建议采纳率", "Proposal adoption"),
    "dash.table": ("数据表", "Data table"),
    "dash.children": ("下一级组织", "One level down"),
    "dash.open": ("查看其看板", "Open its dashboard"),
    "dash.no_children": (
        "该组织没有下级组织。以上为其本身的数据。",
        "This org has no org below it: the figures above are its own.",
    ),
    "dash.export": ("导出当前数据", "Export what is shown"),
    "dash.export_csv": ("下载CSV", "Download CSV"),
    "dash.export_xlsx": ("下载Excel（XLSX）", "Download Excel (XLSX)"),
    "dash.bad_year": (
        "年度格式不正确，请选择2000至2100之间的年份。",
        "The year is not valid: choose a year between 2000 and 2100.",
    ),
    "dash.programmes_title": ("本组织及下级的活动项目", "Programmes of my org and below"),
    "dash.programmes_empty": (
        "本节点暂无本组织或下级组织主办的项目。下级工会发布项目后会显示在这里。",
        "No programme of your org or an org below it is known here yet. They appear once "
        "the unions below publish them.",
    ),
    "oidc.signin": ("通过统一身份认证登录", "Sign in with the federation's account"),
    "oidc.intro": (
        "使用您在工会联合会统一身份认证平台的账号登录。",
        "Sign in with your account at the federation's identity provider.",
    ),
    "oidc.failed": (
        "登录未完成，请重新登录。如果问题持续，请联系管理员。",
        "Sign-in did not complete. Please sign in again; if it keeps failing, tell your "
        "administrator.",
    ),
    "oidc.unavailable": (
        "身份认证服务暂时无法访问，请稍后再试。",
        "The identity provider cannot be reached right now. Try again shortly.",
    ),
}
