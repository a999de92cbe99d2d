"""Real-browser pass: Playwright drives Debian's Chromium against the console served on loopback."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
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
def live_server(demo_app):
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
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
