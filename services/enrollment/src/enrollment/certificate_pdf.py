"""The certificate as a PDF (fpdf2), with its verification code and a QR code (segno) of the
public verification URL.

Members' names are mostly Chinese: the built-in PDF fonts have Latin-1 only, so a Unicode
font is embedded (the subset used). `BIGSCHOOL_CERTIFICATE_FONT` names one; otherwise the
first found of the usual system fonts is used (CJK fonts as fallbacks of a Latin one). With
no CJK font labels are English and Chinese characters are left out; with no font at all the
built-in Helvetica is used and characters beyond Latin-1 become '?'. The code, the URL and
the QR code are ASCII and always come out right. The image needs a CJK font package (e.g.
Debian's fonts-wqy-microhei or fonts-noto-cjk) for Chinese names.

Rendering is CPU work (font parsing and subsetting): routes run it in a worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import segno
from fpdf import FPDF

log = logging.getLogger(__name__)

FONTS = Path("/usr/share/fonts")
# (path below /usr/share/fonts, index in a collection): Simplified Chinese first.
CJK_FONTS = [
    ("opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("opentype/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("truetype/wqy/wqy-microhei.ttc", 0),
    ("truetype/wqy/wqy-zenhei.ttc", 0),
    ("truetype/arphic/uming.ttc", 0),
    ("truetype/droid/DroidSansFallbackFull.ttf", 0),
]
LATIN_FONTS = [
    ("truetype/dejavu/DejaVuSans.ttf", 0),
    ("truetype/liberation/LiberationSans-Regular.ttf", 0),
    ("truetype/freefont/FreeSans.ttf", 0),
]

LABELS = {
    "en": {
        "title": "Certificate of Completion",
        "certifies": "This certifies that",
        "completed": "has completed",
        "kind": "Kind",
        "area": "Quality area",
        "hours": "Hours",
        "date": "Completed on",
        "result": "Result",
        "score": "score",
        "rank": "rank",
        "code": "Verification code",
        "verify": "Verify at",
        "revoked": "REVOKED on",
        "issuer": "Big School",
    },
    "zh": {
        "title": "结业证书",
        "certifies": "兹证明",
        "completed": "已完成",
        "kind": "类型",
        "area": "素质领域",
        "hours": "学时",
        "date": "完成日期",
        "result": "成绩",
        "score": "得分",
        "rank": "名次",
        "code": "验证码",
        "verify": "验证网址",
        "revoked": "已撤销于",
        "issuer": "大学校",
    },
}
AREAS = {
    "en": {
        "ethics": "Professional ethics",
        "science_culture": "Science and culture",
        "technical_skills": "Technical skills",
        "safety_health": "Safety and health",
    },
    "zh": {
        "ethics": "职业道德",
        "science_culture": "科学文化",
        "technical_skills": "技术技能",
        "safety_health": "安全健康",
    },
}


KINDS_ZH = {
    "training_course": "培训课程",
    "knowledge_contest": "知识竞赛",
    "speech_contest": "演讲比赛",
    "lecture": "讲座",
    "reading_activity": "读书活动",
    "skills_competition": "技能竞赛",
    "mentoring": "师带徒",
    "fitness_activity": "健身活动",
    "cultural_performance": "文艺演出",
    "art_festival": "艺术节",
    "exhibition": "展览",
    "online_course": "网络课程",
}

RGB = tuple[int, int, int]
INK: RGB = (30, 30, 30)
GREY: RGB = (80, 80, 80)
GOLD: RGB = (150, 110, 40)
RED: RGB = (190, 20, 20)


@dataclass(frozen=True)
class CertificateView:
    """What the certificate shows."""

    certificate_id: str
    holder_name: str
    programme_title: str
    programme_kind: str
    quality_area: str
    hours: float
    completed_on: date
    score: float | None
    rank: int | None
    verification_code: str
    verification_url: str
    revoked_on: date | None
    language: str = "zh"


@dataclass(frozen=True)
class FontChoice:
    files: tuple[tuple[Path, int], ...]  # the first is the main font, the others fallbacks
    cjk: bool  # whether Chinese labels can be shown

    @property
    def embedded(self) -> bool:
        return bool(self.files)


@cache
def choose_fonts(configured: Path | None) -> FontChoice:
    """The fonts to embed: the configured one, else a Latin font with CJK fallbacks."""
    if configured is not None:  # the setting checked that it is a file
        return FontChoice(((configured, 0),), cjk=True)
    latin = [(FONTS / p, i) for p, i in LATIN_FONTS if (FONTS / p).is_file()][:1]
    cjk = [(FONTS / p, i) for p, i in CJK_FONTS if (FONTS / p).is_file()][:1]
    if not cjk:
        log.warning("no CJK font found: Chinese characters are left out of certificates")
    return FontChoice(tuple(latin + cjk), cjk=bool(cjk))


def render_certificate(view: CertificateView, fonts: FontChoice) -> bytes:
    language = view.language if view.language in LABELS and fonts.cjk else "en"
    pdf = _document(view, fonts)
    _Writer(pdf, fonts, language).write(view)
    return bytes(pdf.output())


def _document(view: CertificateView, fonts: FontChoice) -> FPDF:
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_title("Certificate")
    pdf.set_creator("Big School")
    # In the document's metadata too: a reader can find the code without the page text.
    pdf.set_subject(f"Verification code {view.verification_code}")
    pdf.set_keywords([view.verification_code, view.certificate_id])
    names = []
    for number, (path, index) in enumerate(fonts.files):
        pdf.add_font(f"f{number}", fname=path, collection_font_number=index)
        names.append(f"f{number}")
    if len(names) > 1:
        pdf.set_fallback_fonts(names[1:], exact_match=False)
    pdf.add_page()
    return pdf


class _Writer:
    def __init__(self, pdf: FPDF, fonts: FontChoice, language: str) -> None:
        self.pdf = pdf
        self.family = "f0" if fonts.embedded else "helvetica"
        self.latin1_only = not fonts.embedded
        self.labels = LABELS[language]
        self.areas = AREAS[language]
        self.chinese = language == "zh"

    def text(self, value: str) -> str:
        if self.latin1_only:
            return value.encode("latin-1", "replace").decode("latin-1")
        return value

    def line(self, value: str, size: float, height: float, rgb: RGB = INK) -> None:
        pdf = self.pdf
        pdf.set_font(self.family, size=size)
        pdf.set_text_color(*rgb)
        pdf.set_x(20)
        pdf.multi_cell(257, height, self.text(value), align="C", new_x="LMARGIN", new_y="NEXT")

    def write(self, view: CertificateView) -> None:
        pdf, labels = self.pdf, self.labels
        pdf.set_draw_color(*GOLD)
        pdf.set_line_width(1.2)
        pdf.rect(10, 10, 277, 190)
        pdf.set_line_width(0.3)
        pdf.rect(13, 13, 271, 184)
        pdf.set_y(28)
        self.line(labels["title"], 30, 16, GOLD)
        pdf.ln(4)
        self.line(labels["certifies"], 13, 8, GREY)
        self.line(view.holder_name, 24, 13)
        self.line(labels["completed"], 13, 8, GREY)
        self.line(view.programme_title, 18, 10)
        pdf.ln(3)
        for detail in self.details(view):
            self.line(detail, 12, 7, GREY)
        if view.revoked_on is not None:
            pdf.ln(2)
            self.line(f"{labels['revoked']} {view.revoked_on.isoformat()}", 16, 9, RED)
        self.footer(view)

    def details(self, view: CertificateView) -> list[str]:
        labels = self.labels
        area = self.areas.get(view.quality_area, view.quality_area)
        kind = view.programme_kind.replace("_", " ")
        if self.chinese:
            kind = KINDS_ZH.get(view.programme_kind, kind)
        lines = [
            f"{labels['kind']}: {kind}    {labels['area']}: {area}",
            f"{labels['hours']}: {view.hours:g}    {labels['date']}: "
            f"{view.completed_on.isoformat()}",
        ]
        result = []
        if view.score is not None:
            result.append(f"{labels['score']} {view.score:g}")
        if view.rank is not None:
            result.append(f"{labels['rank']} {view.rank}")
        if result:
            lines.append(f"{labels['result']}: {', '.join(result)}")
        return lines

    def footer(self, view: CertificateView) -> None:
        pdf, labels = self.pdf, self.labels
        pdf.set_font(self.family, size=10)
        pdf.set_text_color(*GREY)
        for y, text in [
            (165, labels["issuer"]),
            (172, f"{labels['code']}: {view.verification_code}"),
            (179, f"{labels['verify']}: {view.verification_url}"),
        ]:
            pdf.set_xy(22, y)
            pdf.cell(200, 6, self.text(text))
        draw_qr(pdf, view.verification_url, x=240, y=150, size=38)


def draw_qr(pdf: FPDF, url: str, *, x: float, y: float, size: float) -> None:
    """The QR code of `url` as vector squares (sharp at any zoom), and a link on it."""
    qr = segno.make(url, error="m")
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=0)]
    module = size / len(rows)
    pdf.set_fill_color(0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # One rectangle per run of dark modules: far fewer drawing operations.
            pdf.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")
    pdf.link(x, y, size, size, url)
