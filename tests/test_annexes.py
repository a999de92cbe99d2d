"""The six annex forms as PDFs: their text, font, line breaking, state rules, escaping, scope and audit."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from urllib.parse import quote

import pytest
import xhtml2pdf.reportlab_paragraph as rp
from sqlalchemy import select

from annexes import typesetting
from annexes.catalog import ANNEXES, available
from annexes.render import RESOURCE_POLICY, deny_every_link
from annexes.verify import verify_token
from extensions import db
from models import AuditLog, Case, CaseMaterial, Center
from tests import pdftext
from tests.builders import login_as

CLOSING = typesetting.CANNOT_START


def _case(status: str, town: str = "峡山街道便民服务中心", mode: str = "delegated") -> Case:
    query = (
        select(Case)
        .join(Case.center)
        .where(Case.status == status, Case.mode == mode, Center.name == town)
        .order_by(Case.id)
        .limit(1)
    )
    case = db.session.scalar(query)
    assert case is not None, (status, town, mode)
    return case


@pytest.fixture
def clerk(client):
    login_as(client, "xiashan_admin")
    return client


def _pdf(client, case: Case, number: int) -> bytes:
    response = client.get(f"/admin/case/annex/{number}/?id={case.id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    return response.get_data()


# What each form must say besides the header: its title and some of its own clauses or fields.
CLAUSES = {
    1: ["代办服务申请表", "申请人（自然人）", "申请代办事项", "申请材料清单", "帮办代办服务免费"],
    2: ["代办服务承诺书", "本次委托完全出于自愿", "不以任何形式向工作人员赠送财物", "代办员不能承诺审批结果"],
    3: [
        "代办服务委托协议",
        "甲方（委托方）",
        "乙方（受托方）",
        "乙方免费提供代办服务，不得以任何名义收取费用",
        "负有保密义务",
        "甲方可随时申请终止委托",
        "本协议一式两份",
    ],
    4: ["代办服务终止委托单", "终止原因", "已办理环节", "材料退还清单", "委托人签收"],
    5: ["代办服务办结单", "办理结果", "原件退还清单", "请对本次服务进行评价", "委托人（领取人）签字确认"],
    6: ["委托代办服务评价表", "服务态度", "廉洁自律", "非常不满意", "意见建议"],
}


@pytest.mark.parametrize("status", ["completed", "terminated"])
def test_every_form_of_a_closed_case_reads_back_with_its_clauses(clerk, status):
    case = _case(status)
    numbers = [a.number for a in available(case)]
    assert numbers == ([1, 2, 3, 5, 6] if status == "completed" else [1, 2, 3, 4, 6])
    for number in numbers:
        text = pdftext.text(_pdf(clerk, case, number))
        assert case.number in text
        assert case.applicant.name in text
        for item in case.items:
            assert "".join(item.name.split()) in text
        for phrase in CLAUSES[number]:
            assert phrase in text, (number, phrase)
        assert f"监督电话：{case.center.hotline}" in text
        assert "第1页共" in text
    if status == "completed":
        assert "".join(case.completion_result.split()) in pdftext.text(_pdf(clerk, case, 5))
    else:
        text = pdftext.text(_pdf(clerk, case, 4))
        assert "".join(case.termination_text.split()) in text


def test_each_render_is_audited_and_named_in_chinese(clerk):
    case = _case("completed")
    response = clerk.get(f"/admin/case/annex/3/?id={case.id}")
    disposition = response.headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote(f'{case.number}_附件3_代办服务委托协议.pdf')}" in disposition
    rows = db.session.scalars(select(AuditLog).where(AuditLog.event == "pdf")).all()
    assert [(r.object_type, r.object_id, r.username) for r in rows] == [("case", str(case.id), "xiashan_admin")]
    assert "代办服务委托协议" in rows[0].summary


def test_the_font_is_embedded_and_no_other_font_is_listed(clerk):
    case = _case("completed")
    for number in (1, 5):
        fonts = pdftext.fonts(_pdf(clerk, case, number))
        assert fonts and all(fonts.values()), fonts
        assert all("WenQuanYiZenHei" in name for name in fonts), fonts


def test_a_rare_character_in_a_name_is_printed_not_boxed(clerk):
    case = _case("completed")
    case.applicant.name = "龚䶮堃"  # 䶮 is in CJK Ext-A
    db.session.commit()
    assert "龚䶮堃" in pdftext.text(_pdf(clerk, case, 1))


def test_forms_follow_the_case_state_and_say_why_not(clerk):
    completed, running = _case("completed"), _case("in_progress")
    on_site = _case("completed", mode="on_site")
    refusals = [
        (completed, 4, "在登记终止后打印，仅用于终止委托的案件"),
        (running, 5, "本件状态为“办理中”，尚未登记办理结果"),
        (running, 6, "在案件办结或终止后提供"),
        (on_site, 1, "本件为现场帮办，不签订代办服务表单：附件1至6仅用于委托代办件"),
    ]
    for case, number, message in refusals:
        response = clerk.get(f"/admin/case/annex/{number}/?id={case.id}", follow_redirects=True)
        assert response.mimetype == "text/html"
        assert message in response.get_data(as_text=True)
    assert not db.session.scalars(select(AuditLog).where(AuditLog.event == "pdf")).all()
    assert [a.number for a in available(running)] == [1, 2, 3]
    page = clerk.get(f"/admin/case/details/?id={completed.id}").get_data(as_text=True)
    for number, annex in ANNEXES.items():
        assert (f"附件{number} {annex.title}</a>" in page) == (number != 4)
    assert "附件1至6仅用于委托代办件" in clerk.get(f"/admin/case/details/?id={on_site.id}").get_data(as_text=True)


def test_a_case_out_of_scope_is_not_printed(client):
    login_as(client, "xiashan_dongshan")
    foreign = _case("completed", town="陈店镇便民服务中心")
    response = client.get(f"/admin/case/annex/1/?id={foreign.id}", follow_redirects=True)
    assert response.mimetype == "text/html"
    assert "案件不存在或不在您的管辖范围内" in response.get_data(as_text=True)
    assert client.get("/admin/case/annex/1/?id=abc", follow_redirects=True).mimetype == "text/html"
    assert not db.session.scalars(select(AuditLog).where(AuditLog.event == "pdf")).all()


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback():
    _Recorder.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _images_and_links(data: bytes) -> tuple[int, int]:
    images = links = 0
    for page in pdftext.reader(data).pages:
        for ref in (page["/Resources"].get("/XObject") or {}).values():
            images += ref.get_object().get("/Subtype") == "/Image"
        links += len(page.get("/Annots") or [])
    return images, links


def test_markup_in_user_text_is_printed_as_text_and_loads_nothing(clerk, loopback, tmp_path):
    secret = tmp_path / "signature.png"
    secret.write_bytes(_png())
    case = _case("completed")
    case.applicant.name = f'<img src="{secret}">'
    case.applicant.address = f'<img src="{loopback}/address.png">'
    case.summary = f'<a href="{loopback}/link">点我</a><img src="file://{secret}">'
    db.session.commit()
    data = _pdf(clerk, case, 1)
    text = pdftext.text(data)
    assert f'<imgsrc="{secret}">' in text and f'<ahref="{loopback}/link">点我</a>' in text
    assert _images_and_links(data) == (0, 0)
    assert _Recorder.hits == []


def test_the_second_line_of_defence_denies_raw_markup_too(app, loopback, tmp_path):
    """Were a template ever to print user text unescaped, the callback and policy still load nothing."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import PERMISSIVE_POLICY

    local = tmp_path / "seal.png"
    local.write_bytes(_png())
    html = (
        f'<html><body><p>x</p><img src="{local}"><img src="file://{local}"><img src="{loopback}/a.png">'
        f'<link rel="stylesheet" href="{loopback}/b.css"></body></html>'
    )

    def render(**options) -> bytes:
        import io

        out = io.BytesIO()
        pisa.CreatePDF(html, dest=out, **options)
        return out.getvalue()

    # The control: with every door open the same document embeds the file (so the check below can fail).
    assert _images_and_links(render(resource_policy=PERMISSIVE_POLICY))[0] >= 1
    _Recorder.hits = []
    assert _images_and_links(render(link_callback=deny_every_link, resource_policy=RESOURCE_POLICY))[0] == 0
    assert _Recorder.hits == []


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


LONG = (
    "申请人反映：本人常年在外务工，材料（含户口簿、身份证复印件、结婚证、"
    "出生医学证明）已于本月交由代办员保管；因需补正“亲属关系证明”、“居住证明”，"
    "请代办员一次性告知全部要求！是否可以邮寄？如可以，请寄至峡山街道东山社区。"
) * 12


def test_a_long_value_wraps_in_its_cell_and_no_line_starts_with_closing_punctuation(clerk):
    case = _case("completed")
    case.summary = LONG
    case.applicant.address = LONG[:200]
    db.session.commit()
    data = _pdf(clerk, case, 1)
    assert "".join(LONG.split()) in pdftext.text(data)
    page_width = float(pdftext.reader(data).pages[0].mediabox.width)
    # The page total is a form object drawn at its own origin; everything else is placed on the page.
    runs = [run for run in pdftext.runs(data) if run[1:3] != (0.0, 0.0)]
    assert all(0 < x < page_width - 40 for _, x, _, _ in runs), [r for r in runs if not 0 < r[1] < page_width - 40]
    starts = pdftext.line_starts(data)
    assert len(starts) > 40
    assert [line for line in starts if line[0] in CLOSING] == []


def _line_starts(splitter, text: str, width_mm: int) -> list[str]:
    """First character of every line xhtml2pdf lays out for `text` in a box `width_mm` wide."""
    import io

    from flask import render_template_string
    from xhtml2pdf import pisa

    from annexes.fonts import register_font

    register_font()
    saved = rp.cjkFragSplit
    rp.cjkFragSplit = splitter
    try:
        html = render_template_string(
            "<html><body style='font-family: zh; -pdf-word-wrap: CJK'><div style='width: {{ w }}mm'>"
            "<p>{{ t }}</p></div></body></html>",
            t=text,
            w=width_mm,
        )
        out = io.BytesIO()
        pisa.CreatePDF(html, dest=out)
    finally:
        rp.cjkFragSplit = saved
    return [run[3][0] for run in pdftext.runs(out.getvalue())]


def test_the_line_breaker_keeps_closing_marks_off_the_start_of_lines(app):
    text = "，".join("代办" * n for n in range(1, 14)) + "。）”！" + "材料、证明；" * 9
    with app.test_request_context():
        naive = [_line_starts(typesetting.ORIGINAL_SPLIT, text, w) for w in range(30, 80, 7)]
        ours = [_line_starts(typesetting.cjk_frag_split, text, w) for w in range(30, 80, 7)]
    assert any(c in CLOSING for starts in naive for c in starts)  # the control: xhtml2pdf alone does it
    assert all(len(starts) > 3 for starts in ours)
    assert not [c for starts in ours for c in starts if c in CLOSING]


def test_a_form_that_outgrows_a_page_repeats_its_table_header(clerk):
    case = _case("completed")
    for n in range(60):
        case.materials.append(CaseMaterial(name=f"补充证明材料第{n + 1}号", form="copy", copies=1))
    db.session.commit()
    reader = pdftext.reader(_pdf(clerk, case, 1))
    assert len(reader.pages) >= 2
    pages = ["".join((p.extract_text() or "").split()) for p in reader.pages]
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页共{total}页" in page
    assert "材料名称" in pages[1] and "原件/复印件" in pages[1]
    assert "补充证明材料第60号" in pages[-1]


def test_the_verification_page_confirms_a_form_without_personal_data(client):
    case = _case("completed")
    token = verify_token(case, 5, dt.date(2026, 11, 20), client.application.config["SECRET_KEY"].encode())
    body = client.get(f"/verify/{token}").get_data(as_text=True)
    assert "真实有效" in body and case.number in body and "代办服务办结单" in body
    assert case.center.name in body and "2026年11月20日" in body
    assert case.applicant.name not in body and case.applicant.phone not in body
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (forged, token.replace("-5-", "-4-"), "1-1-20261120-x", "nonsense"):
        response = client.get(f"/verify/{bad}")
        assert response.status_code == 404 and "无法核验" in response.get_data(as_text=True)


def _decode(value: str) -> str:
    """Draw the printed QR code's modules as an image and let zxing-cpp's reader find and read it."""
    import zxingcpp
    from PIL import Image, ImageOps

    from annexes import qr

    rows = qr.modules(value)
    image = Image.new("L", (len(rows), len(rows)))
    image.putdata([0 if dark else 255 for row in rows for dark in row])
    image = ImageOps.expand(image, border=6, fill=255)  # a quiet zone, as printed
    image = image.resize((image.width * 6, image.height * 6), Image.Resampling.NEAREST)
    found = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text if found else ""


def test_the_qr_codes_on_a_printed_completion_slip_read_back_from_the_page_image(clerk, tmp_path):
    """The whole way a phone sees them: the rendered PDF page, rasterised, then read by zxing-cpp."""
    import subprocess

    import zxingcpp
    from PIL import Image

    from annexes.render import render_sheets, sheet

    case = db.session.scalar(
        select(Case)
        .where(Case.mode == "delegated", Case.status == "completed", ~Case.evaluation.has())
        .order_by(Case.id)
        .limit(1)
    )
    slip = sheet(
        case,
        5,
        base_url="https://bbdb.chaonan.gov.cn",
        secret=clerk.application.config["SECRET_KEY"].encode(),
        now=case.evaluation_link.created_at,
        link_allowed=True,
    )
    (tmp_path / "slip.pdf").write_bytes(render_sheets([slip]))
    subprocess.run(
        ["pdftoppm", "-r", "200", "-gray", "-png", str(tmp_path / "slip.pdf"), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page*.png"))
    found = {
        code.text
        for page in pages
        for code in zxingcpp.read_barcodes(Image.open(page), formats=zxingcpp.BarcodeFormat.QRCode)
    }
    assert slip.verify_url.startswith("https://bbdb.chaonan.gov.cn/verify/") and slip.evaluation_url
    assert found == {slip.verify_url, slip.evaluation_url}


def test_the_printed_qr_codes_read_back_as_the_verification_and_evaluation_links(clerk):
    from annexes.render import sheet

    case = db.session.scalar(
        select(Case)
        .where(Case.mode == "delegated", Case.status == "completed", ~Case.evaluation.has())
        .order_by(Case.id)
        .limit(1)
    )
    secret = clerk.application.config["SECRET_KEY"].encode()
    slip = sheet(
        case,
        5,
        base_url="https://bbdb.chaonan.gov.cn",
        secret=secret,
        now=case.evaluation_link.created_at,
        link_allowed=True,
    )
    assert _decode(slip.verify_url) == slip.verify_url
    assert slip.verify_url.startswith("https://bbdb.chaonan.gov.cn/verify/")
    assert slip.evaluation_url and _decode(slip.evaluation_url) == slip.evaluation_url
    # Fixed mask 0 (annexes/qr.py) reads back whatever the token: a sample of random ones.
    import secrets

    for i in range(60):
        url = f"https://bbdb.chaonan.gov.cn/e/{i}-{secrets.token_hex(20)}"
        assert _decode(url) == url
    token = slip.verify_url.rsplit("/", 1)[1]
    assert case.number in clerk.get(f"/verify/{token}").get_data(as_text=True)
    # The token is the case's own link (open or, for an old demo case, expired), never an unknown one.
    response = clerk.get(slip.evaluation_url.replace("https://bbdb.chaonan.gov.cn", ""))
    assert response.status_code in (200, 410) and "链接无效" not in response.get_data(as_text=True)


# --- the xhtml2pdf patches: applied at start, not on import ---------------------------------------
_PATCH_STATE = """
import xhtml2pdf.document, xhtml2pdf.reportlab_paragraph as rp
from xhtml2pdf.tags import pisaTagPDFBARCODE
from xhtml2pdf.xhtml2pdf_reportlab import PmlBaseDoc
def state():
    wrapper = pisaTagPDFBARCODE._barcodeWrapper
    return (
        xhtml2pdf.document.PmlBaseDoc is PmlBaseDoc,
        rp.cjkFragSplit.__module__,
        getattr(wrapper, "fast_qr", False),
        getattr(wrapper.__bases__[0], "fast_qr", False),
    )
"""


def _fresh(code: str) -> list[str]:
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-c", _PATCH_STATE + code],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.splitlines()


def test_importing_the_renderer_leaves_xhtml2pdf_alone_and_rendering_refuses_until_installed():
    out = _fresh(
        "from annexes import render\n"
        "print(state())\n"
        "try:\n"
        "    render.render_sheets([object()])\n"
        "except RuntimeError as error:\n"
        "    print(error)\n"
        "render.install_xhtml2pdf_patches()\n"
        "render.install_xhtml2pdf_patches()\n"
        "print(state(), render.has_xhtml2pdf_patches())\n"
    )
    assert out == [
        "(True, 'xhtml2pdf.reportlab_paragraph', False, False)",
        "PDF 渲染环境未初始化（启动时须调用 install_xhtml2pdf_patches）",
        # Installed once however often called: the QR wrapper wraps xhtml2pdf's own, not itself.
        "(False, 'annexes.typesetting', True, False) True",
    ]


def test_creating_the_app_installs_the_xhtml2pdf_patches():
    out = _fresh(
        "import app\nprint(state())\napp.create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\nprint(state())\n"
    )
    assert out == [
        "(True, 'xhtml2pdf.reportlab_paragraph', False, False)",
        "(False, 'annexes.typesetting', True, False)",
    ]
