"""Real-browser pass: Playwright drives Debian's Chromium against the console served on loopback."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from extensions import db
from models import Case, Center
from models.enums import Tier

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(demo_app_csrf):
    # CSRF on, as in production: every form the browser submits must carry its token.
    server = make_server("127.0.0.1", 0, demo_app_csrf, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(live_server):
    # No skip: in CI a missing Chromium must fail the run (make test installs it).
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.base_url = live_server
        yield page
        context.close()
        browser.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_district_admin_filters_cases_by_town_and_opens_one(page):
    town = db.session.scalar(select(Center).where(Center.name == "陈店镇便民服务中心"))
    subtree = {town.id} | {c.id for c in town.children}
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", "qu_admin")
    page.fill("input[name=password]", "Chaonan#2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    assert "区级管理员" in page.content()

    page.goto(page.base_url + "/admin/case/")
    assert "案件台账" in page.content()
    # Add the town filter through the UI, pick 陈店镇, apply.
    page.click("text=添加筛选器")
    page.click("a.filter:has-text('所属镇(街道)')")
    # The value box is a select2 widget over a hidden <select>; set the select itself.
    page.select_option("select.filter-val", label="陈店镇便民服务中心", force=True)
    page.click("button:has-text('应用')")
    page.wait_for_load_state("networkidle")
    _shot(page, "case_list_filtered_by_town")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() > 0
    expected = db.session.scalar(
        select(Case).where(Case.center_id.in_(subtree)).order_by(Case.received_date.desc(), Case.id.desc()).limit(1)
    )
    body = page.content()
    assert expected.number in body
    other = db.session.scalar(select(Case).join(Case.center).where(Center.tier == Tier.DISTRICT.value).limit(1))
    assert other.number not in body

    page.click(f"a[href*='details/?id={expected.id}']")
    page.wait_for_load_state("networkidle")
    _shot(page, "case_details")
    details = page.content()
    assert expected.number in details and "办理过程" in details and expected.applicant.name in details


def _first_delegated(status: str, center: str = "峡山街道便民服务中心") -> Case:
    return db.session.scalar(
        select(Case)
        .join(Case.center)
        .where(Case.status == status, Case.mode == "delegated", Center.name == center)
        .order_by(Case.id)
        .limit(1)
    )


def _login(page, username: str) -> None:
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "Chaonan#2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


@pytest.mark.browser
def test_village_operator_sees_only_its_station_and_not_another_towns_case(page):
    station = db.session.scalar(select(Center).where(Center.name == "东山社区便民服务站"))
    # Its own cases, and those it received first and handed up to the town (首问负责: still readable).
    own = db.session.scalars(
        select(Case).where((Case.center_id == station.id) | (Case.origin_center_id == station.id))
    ).all()
    foreign = db.session.scalar(
        select(Case).join(Case.center).where(Center.name == "文光社区便民服务站").order_by(Case.id).limit(1)
    )
    _login(page, "xiashan_dongshan")
    page.goto(page.base_url + "/admin/case/?page_size=100")
    _shot(page, "village_operator_case_list")
    body = page.content()
    assert f"列表 ({len(own)})" in body
    assert page.locator("table.model-list tbody tr").count() == len(own)
    centers = page.locator("table.model-list tbody td.col-center").all_inner_texts()
    assert set(centers) <= {"东山社区便民服务站", "峡山街道便民服务中心"}
    assert foreign.number not in body

    page.goto(page.base_url + f"/admin/case/details/?id={foreign.id}")
    _shot(page, "village_operator_foreign_case")
    details = page.content()
    assert "记录不存在" in details
    assert foreign.number not in details and foreign.applicant.name not in details


@pytest.mark.browser
def test_a_delegated_case_from_submitted_to_completed_then_a_bad_review_opens_a_follow_up(page):
    from models import FollowUp
    from tests import pdftext

    case = _first_delegated("submitted")
    _login(page, "xiashan_admin")
    details = page.base_url + f"/admin/case/details/?id={case.id}"

    page.goto(details)
    page.click(".transition-buttons a:has-text('受理')")
    page.select_option("select[name=agent]", index=1)
    for box in ("application_confirmed", "undertaking_confirmed", "agreement_signed"):
        page.check(f"input[name={box}]")
    page.click("button:has-text('确认受理')")
    page.wait_for_url("**/details/**")
    assert "已受理" in page.content()

    page.click(".transition-buttons button:has-text('开始办理')")
    page.wait_for_url("**/details/**")
    page.fill("textarea[name=content]", "联系区市场监管局核对经营范围")
    page.click("button:has-text('记录办理过程')")
    page.wait_for_url("**/details/**")
    assert "联系区市场监管局核对经营范围" in page.content()

    # Plan 三(三)4: the result is recorded, the 办结单 printed and signed, then the case is closed.
    page.click(".transition-buttons a:has-text('登记办理结果')")
    page.wait_for_url("**/transition/record_result/**")
    page.fill("input[name=completion_result]", "准予登记，已发放营业执照")
    page.select_option("select[name=result_delivery]", "agent")
    page.fill("textarea[name=handover_note]", "营业执照正副本各一份当面移交")
    page.select_option("select[name=materials_return_method]", "in_person")
    _shot(page, "record_result_form")
    page.click("button:has-text('确认登记办理结果')")
    page.wait_for_url("**/details/**")
    _shot(page, "result_recorded_awaiting_signature")
    assert "待申请人签字确认" in page.content() and page.locator(".badge-status").first.inner_text() == "办理中"
    with page.expect_download() as download:
        page.click(".annex-links a:has-text('附件5 代办服务办结单')")
    signing = pdftext.text(Path(download.value.path()).read_bytes())
    assert "待签字确认" in signing and case.number in signing
    assert "准予登记，已发放营业执照" in signing and "■代办员送达" in signing and "■本人当面签收" in signing

    page.click(".transition-buttons a:has-text('确认办结')")
    page.wait_for_url("**/transition/complete/**")
    page.wait_for_load_state("networkidle")
    assert "准予登记，已发放营业执照" in page.content()  # what the applicant signed, not asked again
    assert page.locator("input[name=completion_result]").count() == 0
    page.click("button:has-text('确认办结')")
    page.wait_for_load_state("networkidle")
    assert "须经申请人在《代办服务办结单》上签字确认" in page.content()  # validated on the server
    page.check("input[name=completion_signed]")
    page.check("input[name=materials_returned]")
    _shot(page, "complete_confirmation")
    page.click("button:has-text('确认办结')")
    page.wait_for_url("**/details/**")
    _shot(page, "case_completed")
    body = page.content()
    assert page.locator(".badge-status").first.inner_text() == "已办结"
    assert "准予登记，已发放营业执照" in body and "申请人已签字确认" in body
    link = page.locator("code.evaluation-url").inner_text()

    # The applicant opens the one-time link on a phone, without logging in.
    applicant = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone = applicant.new_page()
    phone.goto(link)
    for name, value in [
        ("overall", "1"),
        ("attitude", "1"),
        ("efficiency", "2"),
        ("competence", "3"),
        ("communication", "1"),
        ("integrity", "5"),
    ]:
        phone.check(f"input[name={name}][value='{value}']")
    phone.fill("textarea[name=comment]", "多次催问才告知进度")
    _shot(phone, "public_evaluation_form")
    phone.click("button:has-text('提交评价')")
    phone.wait_for_load_state("networkidle")
    assert "评价已提交" in phone.content()
    phone.goto(link)
    assert "该评价链接已使用" in phone.content()
    applicant.close()

    followup = db.session.scalar(
        select(FollowUp).join(FollowUp.evaluation).where(FollowUp.evaluation.has(case_id=case.id))
    )
    assert followup is not None and followup.status == "open" and followup.assignee.username == "xiashan_admin"
    page.goto(page.base_url + f"/admin/followup/details/?id={followup.id}")
    _shot(page, "followup_open")
    assert "待回访" in page.content() and case.number in page.content()


@pytest.mark.browser
def test_a_clerk_prints_a_form_and_exports_selected_cases_with_live_progress(page, demo_app_csrf, tmp_path):
    from jobs import queue
    from jobs.queue import huey
    from models import ExportJob
    from tests import pdftext

    queue.connect(f"sqlite:///{tmp_path / 'tasks.db'}")
    demo_app_csrf.config.update(EXPORT_DIR=str(tmp_path / "exports"), EXPORT_CHUNK_SIZE=2)
    completed = _first_delegated("completed")
    _login(page, "xiashan_admin")
    page.goto(page.base_url + f"/admin/case/details/?id={completed.id}")
    _shot(page, "case_details_print_buttons")
    with page.expect_download() as download:
        page.click(".annex-links a:has-text('附件5 代办服务办结单')")
    assert download.value.suggested_filename == f"{completed.number}_附件5_代办服务办结单.pdf"
    text = pdftext.text(Path(download.value.path()).read_bytes())
    assert completed.number in text and completed.applicant.name in text

    page.goto(page.base_url + "/admin/case/?flt0_mode_filterequal=delegated")
    boxes = page.locator("input.action-checkbox")
    for i in range(3):
        boxes.nth(i).check()
    page.click("a.dropdown-toggle:has-text('With selected'), a.dropdown-toggle:has-text('选中')")
    page.click("a:has-text('批量导出 PDF')")
    page.wait_for_load_state("networkidle")
    assert "在您管辖范围内的有 <strong>3</strong> 件" in page.content()
    page.check("input[name=file_format][value=merged]")
    _shot(page, "batch_export_options")
    page.click("button:has-text('开始导出')")
    page.wait_for_url("**/export_job/details/**")
    assert "排队中" in page.content() and "取消任务" in page.content()
    _shot(page, "batch_export_queued")
    while (task := huey.dequeue()) is not None:  # the worker's part, done here in the test's process
        huey.execute(task)
    job = db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()
    assert job.status == "done"
    page.wait_for_selector("a:has-text('下载 帮办代办表单_')", timeout=15000)  # the page polls, then reloads
    _shot(page, "batch_export_done")
    with page.expect_download() as download:
        page.click("a:has-text('下载 帮办代办表单_')")
    assert download.value.suggested_filename.endswith(".pdf")
    assert len(pdftext.reader(Path(download.value.path()).read_bytes()).outline) >= 2
    page.goto(page.base_url + "/admin/export_job/")
    _shot(page, "export_job_list")
    assert f"/admin/export_job/details/?id={job.id}" in page.content() and "已完成" in page.content()


@pytest.mark.browser
def test_district_admin_picks_a_period_and_clicks_a_towns_overdue_figure_to_a_list_of_that_many(page):
    _login(page, "qu_admin")
    # Choose the year in the period picker, as a supervisor would.
    page.select_option("select#period", value="2026")
    page.click("button:has-text('查看')")
    page.wait_for_url("**/admin/?*period=2026*")
    assert "2026年 监督统计" in page.content()
    _shot(page, "home_district_2026")
    row = page.locator("table.level-table tbody tr", has_text="峡山街道便民服务中心")
    overdue = row.locator("a[data-figure='overdue']")
    shown = int(overdue.inner_text())
    assert shown > 0, "the demo data has overdue cases in 峡山"
    overdue.click()
    page.wait_for_load_state("networkidle")
    body = page.content()
    assert "案件台账" in body and f"列表 ({shown})" in body
    assert page.locator("table.model-list tbody tr").count() == shown
    centers = set(page.locator("table.model-list tbody td.col-town").all_inner_texts())
    assert centers == {"峡山街道便民服务中心"}


@pytest.mark.browser
def test_district_admin_exports_the_months_register_and_imports_a_bad_review_that_opens_a_follow_up(page, tmp_path):
    """Issue 12's browser steps: the month's figure, its monthly PDF and register, a 好差评 file in, its follow-up open."""
    _login(page, "qu_admin")
    page.select_option("select#period", value="2026-11")
    page.click("button:has-text('查看')")
    page.wait_for_url("**/admin/?*period=2026-11*")
    received = page.locator("table.level-table tfoot a[data-figure='received']").first
    shown = int(received.inner_text())
    assert shown > 0, "the demo data receives cases in November 2026"
    with page.expect_download() as download:
        page.click("a:has-text('导出月度统计表 PDF')")
    monthly = tmp_path / "monthly.pdf"
    download.value.save_as(monthly)
    text = subprocess.run(
        ["pdftotext", "-layout", str(monthly), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "潮南区帮办代办服务月度统计表 2026年11月" in text
    [total] = [line.split() for line in text.splitlines() if line.strip().startswith("合计")]
    assert total[1] == str(shown)  # 合计 row, 受理量 column: the figure the home page shows
    received.click()
    page.wait_for_load_state("networkidle")
    assert f"列表 ({shown})" in page.content()
    page.click("a.dropdown-toggle:has-text('导出(脱敏)')")
    with page.expect_download() as download:
        page.click("button.dropdown-item:has-text('Excel 表格')")
    register = tmp_path / "register.xlsx"
    download.value.save_as(register)
    sheet = load_workbook(register).active
    assert sheet.freeze_panes == "A2" and sheet.cell(1, 1).value == "案件编号"
    assert sheet.max_row - 1 == shown  # the register holds exactly the month's cases

    case = db.session.scalar(
        select(Case)
        .join(Case.center)
        .where(Case.status == "completed", ~Case.evaluations.any(), Center.name == "东山社区便民服务站")
        .order_by(Case.id)
        .limit(1)
    )
    upload = tmp_path / "haochaping.csv"
    upload.write_text(
        "评价编号,类型,办件编号,事项,评价渠道,评价等级,评价时间,评价内容\n"
        f"HCP-BROWSER-1,评价,{case.number},社会保障卡申领,广东政务服务网,1,2026-12-01 10:30:00,等了很久没人理\n",
        encoding="utf-8-sig",
    )
    page.goto(page.base_url + "/admin/haochaping/")
    page.set_input_files("#hcp-file", str(upload))
    page.click("button:has-text('导入')")
    page.wait_for_load_state("networkidle")
    assert "导入 1 条" in page.content() and case.number in page.content()
    _shot(page, "haochaping_import_result")
    page.goto(page.base_url + f"/admin/followup/?search={case.number}")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == 1 and "待回访" in rows.first.inner_text()


@pytest.mark.browser
def test_a_refused_full_number_export_leaves_no_stale_message_after_the_download(page):
    _login(page, "qu_admin")
    page.goto(page.base_url + "/admin/case/export-full/")
    page.click("button:has-text('含完整证件号码导出')")
    page.wait_for_load_state("networkidle")
    assert page.locator(".export-full-error").count() == 1  # no reason typed: refused, in Chinese
    assert "请填写导出完整证件号码的理由" in page.content()
    page.fill("#export-reason", "核对申请人身份")
    with page.expect_download():
        page.click("button:has-text('含完整证件号码导出')")
    assert page.locator(".export-full-error").count() == 0
