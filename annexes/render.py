"""Render annex forms to PDF: one form at the counter, or many cases into one document for a batch.

Every document is laid out in a single xhtml2pdf pass. The footer ("监督电话 … 第 x 页 共 y 页")
is drawn by the canvas as each page ends, with the page total written into a PDF form object
that is filled in when the document is saved, so no second layout pass (`<pdf:pagecount/>`) is
needed, and in a batch document each form is numbered on its own.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import xhtml2pdf.document
from flask import current_app, render_template
from reportlab.lib.units import mm
from xhtml2pdf import pisa
from xhtml2pdf.builders.printmarks import MarkedCanvas
from xhtml2pdf.config.resources import ResourceAccessPolicy
from xhtml2pdf.xhtml2pdf_reportlab import PmlBaseDoc

from annexes import qr, typesetting
from annexes.catalog import ANNEXES, RATINGS, Annex, is_signing_copy, refusal
from annexes.fonts import FONT_NAME, register_font
from annexes.verify import verify_token
from lifecycle.evaluation_links import token_for
from lifecycle.monthly_report import MonthlyReport
from models import Case
from models.enums import EvaluationChannel, ReturnMethod, TerminationReason, choices
from models.evaluation import RATING_LABELS
from models.time import beijing_date, utcnow

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "assets"
# Local reads confined to the font folder and no fetching at all; the templates reference no file.
RESOURCE_POLICY = ResourceAccessPolicy.server(base_dir=ASSETS, allow_remote=False)
FOOTER_FONT_SIZE = 8


class AnnexNotApplicable(ValueError):
    """The case has no such form; the message says why, in Chinese."""


def deny_every_link(uri: str, rel: str) -> str:
    """xhtml2pdf's link_callback: no document may load anything because of its content.

    "data:," is the denial; returning None or "" would make xhtml2pdf fetch the original address.
    """
    log.warning("PDF 渲染拒绝加载外部资源：%r", uri)
    return "data:,"


@dataclass
class _Footers:
    """What the canvas needs to number the forms of one document."""

    hotlines: list[str]
    form_level: int
    totals: list[int] = field(default_factory=list)


_FOOTERS: ContextVar[_Footers | None] = ContextVar("annex_footers", default=None)


class _FormCanvas(MarkedCanvas):
    """Counts the pages of each form (a form starts at its outline entry) and draws its footer."""

    def __init__(self, *args, **kwargs) -> None:
        self._footers = _FOOTERS.get()
        if self._footers is not None:
            # ReportLab's default initial font is Helvetica, which would be listed, unembedded.
            kwargs["initialFontName"] = kwargs.get("initialFontName") or FONT_NAME
        super().__init__(*args, **kwargs)

    def addOutlineEntry(self, title, key, level=0, closed=None):
        super().addOutlineEntry(title, key, level, closed)
        if self._footers is not None and level == self._footers.form_level:
            self._footers.totals.append(0)

    def showPage(self):
        footers = self._footers
        if footers is not None and footers.totals:
            form = len(footers.totals) - 1
            footers.totals[form] += 1
            self._draw_footer(footers.hotlines[form], footers.totals[form], f"annex_total_{form}")
        super().showPage()

    def _draw_footer(self, hotline: str, page: int, total_form: str) -> None:
        width, _ = self._pagesize
        left, right = 16 * mm, width - 16 * mm
        self.saveState()
        self.setFont(FONT_NAME, FOOTER_FONT_SIZE)
        self.setLineWidth(0.5)
        self.line(left, 14 * mm, right, 14 * mm)
        self.drawString(left, 10 * mm, f"监督电话：{hotline}　政务服务便民热线：12345")
        # "第 x 页 共 " now; "y 页" is a form object filled in at save(), when y is known.
        start = right - self.stringWidth("第 999 页 共 999 页", FONT_NAME, FOOTER_FONT_SIZE)
        prefix = f"第 {page} 页 共 "
        self.drawString(start, 10 * mm, prefix)
        self.translate(start + self.stringWidth(prefix, FONT_NAME, FOOTER_FONT_SIZE), 10 * mm)
        self.doForm(total_form)
        self.restoreState()

    def save(self):
        footers = self._footers
        if footers is not None:
            for form, total in enumerate(footers.totals):
                self.beginForm(f"annex_total_{form}")
                self.setFont(FONT_NAME, FOOTER_FONT_SIZE)
                self.drawString(0, 0, f"{total} 页")
                self.endForm()
        super().save()


class _FormDoc(PmlBaseDoc):
    def _makeCanvas(self, filename=None, canvasmaker=None):
        return super()._makeCanvas(filename=filename, canvasmaker=_FormCanvas)


def install_xhtml2pdf_patches() -> None:
    """Give xhtml2pdf, for the whole process, our footers, Chinese line breaking and fast QR codes (idempotent).

    Called once at start by create_app and worker.py, not on import: importing this module leaves
    xhtml2pdf as it is, and render_sheets refuses to run until this has been called.
    """
    # xhtml2pdf builds its document class by name; this subclass only adds the footer when a render
    # of ours has set _FOOTERS, and is the plain document otherwise.
    xhtml2pdf.document.PmlBaseDoc = _FormDoc
    typesetting.install()
    qr.install()


def has_xhtml2pdf_patches() -> bool:
    """Whether install_xhtml2pdf_patches has run in this process."""
    return xhtml2pdf.document.PmlBaseDoc is _FormDoc and typesetting.is_installed() and qr.is_installed()


@dataclass(frozen=True)
class Sheet:
    """One form of one case, with what its template shows besides the case itself."""

    case: Case
    annex: Annex
    verify_url: str
    evaluation_url: str | None
    evaluation_note: str
    printed_on: dt.date
    case_mark: bool = False
    signing_copy: bool = False  # annex 4/5 before closing: printed for the applicant's signature


def _evaluation(
    case: Case, base_url: str, secret: bytes, now: dt.datetime, link_allowed: bool
) -> tuple[str | None, str]:
    # A paper 评价表 typed in by staff leaves the applicant's own link open (lifecycle.supervision).
    own = next((e for e in case.evaluations if e.channel != EvaluationChannel.PAPER), None)
    if own is not None:
        day = beijing_date(own.created_at)
        return None, f"本件已于{day:%Y年%m月%d日}完成评价，感谢您的评价。"
    if not link_allowed:
        # The link is the applicant's alone: only the center now holding the case prints it.
        return None, "评价二维码由承办机构提供。"
    link = case.evaluation_link
    if link is None or link.used_at is not None:
        return None, "如需评价，请拨打监督电话或通过广东政务服务网“好差评”评价。"
    if link.expires_at < now:
        return None, "评价链接已过期；如需评价，请拨打监督电话或通过“好差评”系统评价。"
    expires = beijing_date(link.expires_at)
    url = f"{base_url}/e/{token_for(link, secret)}"
    return url, f"请用手机扫描左侧二维码对本次服务进行评价（{expires:%Y年%m月%d日}前有效，仅可评价一次）。"


def sheet(
    case: Case,
    number: int,
    *,
    base_url: str | None = None,
    secret: bytes | None = None,
    now: dt.datetime | None = None,
    case_mark: bool = False,
    link_allowed: bool = False,
) -> Sheet:
    """The sheet for annex `number` of the case; AnnexNotApplicable says why when it has none.

    QR codes point at `base_url` (default PUBLIC_BASE_URL) and are signed with `secret` (default SECRET_KEY).
    The applicant's evaluation-link QR prints on annexes 4 and 5 only with `link_allowed` (for whoever
    may change the case, lifecycle.scope.can_change_case); otherwise the form says where to get it.
    """
    reason = refusal(case, number)
    if reason is not None:
        raise AnnexNotApplicable(reason)
    base_url = (base_url or current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    secret = secret or current_app.config["SECRET_KEY"].encode()
    now = now or utcnow()
    printed_on = beijing_date(now)
    evaluation_url, evaluation_note = None, ""
    if number in (4, 5):
        evaluation_url, evaluation_note = _evaluation(case, base_url, secret, now, link_allowed)
    return Sheet(
        case=case,
        annex=ANNEXES[number],
        verify_url=f"{base_url}/verify/{verify_token(case, number, printed_on, secret)}",
        evaluation_url=evaluation_url,
        evaluation_note=evaluation_note,
        printed_on=printed_on,
        case_mark=case_mark,
        signing_copy=is_signing_copy(case, number),
    )


def document_html(sheets: list[Sheet], *, batch: bool = False) -> str:
    """The xhtml2pdf source of a document (autoescaped: the template is .html)."""
    return render_template(
        "annex/document.html",
        sheets=sheets,
        batch=batch,
        font=FONT_NAME,
        termination_reasons=choices(TerminationReason),
        return_methods=choices(ReturnMethod),
        ratings=RATINGS,
        rating_items=RATING_LABELS.items(),
    )


def render_sheets(sheets: list[Sheet], *, batch: bool = False) -> bytes:
    """One PDF holding the sheets in order, each starting on a new page and numbered on its own.

    In a batch document each case's first sheet carries a case bookmark and the forms sit one
    level below it.
    """
    if not sheets:
        raise ValueError("没有可打印的表单")
    _require_patches()
    html = document_html(sheets, batch=batch)
    hotlines = [s.case.center.hotline or "12345" for s in sheets]
    meta = {"title": _title(sheets, batch), "author": sheets[0].case.center.name}
    data, forms = _render(html, hotlines, 1 if batch else 0, meta)
    if forms != len(sheets):
        raise RuntimeError(f"PDF 分页异常：{len(sheets)} 张表单只找到 {forms} 个起点")
    return data


def _require_patches() -> None:
    # Checked before any template is rendered: without them the forms would lose their footers and
    # line-breaking rules, silently.
    if not has_xhtml2pdf_patches():
        raise RuntimeError("PDF 渲染环境未初始化（启动时须调用 install_xhtml2pdf_patches）")


def _render(html: str, hotlines: list[str], form_level: int, meta: dict[str, str]) -> tuple[bytes, int]:
    """The PDF of one xhtml2pdf document whose forms start at `form_level` outline entries, and their number."""
    register_font()
    footers = _Footers(hotlines=hotlines, form_level=form_level)
    token = _FOOTERS.set(footers)
    try:
        out = io.BytesIO()
        result = pisa.CreatePDF(
            html,
            dest=out,
            link_callback=deny_every_link,
            resource_policy=RESOURCE_POLICY,
            encoding="utf-8",
            context_meta=meta,
        )
    finally:
        _FOOTERS.reset(token)
    if result.err:
        raise RuntimeError(f"PDF 生成失败（{result.err} 处错误）")
    return out.getvalue(), len(footers.totals)


def render_monthly_report(report: MonthlyReport) -> bytes:
    """The 月度统计表 as a one-page A4 landscape PDF in the annexes' font, style and footer."""
    _require_patches()
    html = render_template("annex/monthly.html", report=report, font=FONT_NAME)
    hotline = report.issuer.hotline or "12345"
    data, forms = _render(html, [hotline], 0, {"title": report.full_title, "author": report.issuer.name})
    if forms != 1:
        raise RuntimeError(f"月度统计表分页异常：找到 {forms} 个起点")
    return data


def _title(sheets: list[Sheet], batch: bool) -> str:
    if batch:
        return f"帮办代办表单（{len({s.case.id for s in sheets})} 件）"
    return f"{sheets[0].annex.title} {sheets[0].case.number}"


def file_name(case: Case, annex: Annex) -> str:
    """The download name: case number, form title and, for a person, nothing more identifying."""
    return f"{case.number}_附件{annex.number}_{annex.title}.pdf"
