"""Real-browser pass over 代办员公示 and 工作日历 as a town admin: menu, photo upload, print media, calendar."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from extensions import db
from models import Agent, AgentPhoto, Center
from tests.test_browser import _login, _shot, live_server, page  # noqa: F401  (fixtures used by name)


@pytest.mark.browser
def test_a_town_admin_uploads_a_photo_prints_the_roster_and_reads_the_calendar(page, tmp_path: Path):  # noqa: F811
    town = db.session.scalar(select(Center).where(Center.name == "峡山街道便民服务中心"))
    agent = db.session.scalar(
        select(Agent).where(Agent.center_id == town.id, Agent.active.is_(True)).order_by(Agent.staff_no)
    )
    portrait = tmp_path / "portrait.png"
    Image.new("RGB", (300, 400), (70, 130, 200)).save(portrait)
    _login(page, "xiashan_admin")

    page.goto(page.base_url + f"/admin/agent/edit/?id={agent.id}")
    page.set_input_files("input[name=photo_upload]", str(portrait))
    page.click("input[type=submit][value='保存']")
    page.wait_for_load_state("networkidle")
    assert db.session.get(AgentPhoto, agent.id).content_type == "image/png"

    # Reached from the 人员 menu; the login's own center opens first.
    page.goto(page.base_url + "/admin/")
    page.click("a.dropdown-toggle:has-text('人员')")
    page.click("a:has-text('代办员公示')")
    page.wait_for_load_state("networkidle")
    assert page.locator(".notice-head h1").inner_text() == town.name
    photo = page.locator(f"img.roster-photo[alt='{agent.name}的照片']")
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 300  # served and decoded in the page
    _shot(page, "roster_screen")

    page.emulate_media(media="print")
    assert page.locator("nav.navbar").is_hidden() and page.locator("form.roster-picker").is_hidden()
    assert page.locator("article.roster-notice").is_visible()
    printed = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True)))
    assert len(printed.pages) == 1  # the demo center's notice fits one A4 sheet
    width, height = printed.pages[0].mediabox.width, printed.pages[0].mediabox.height
    assert (round(width), round(height)) == (595, 842)  # A4 portrait in points, not Bootstrap's A3
    page.emulate_media(media="screen")

    page.goto(page.base_url + "/admin/agenda/?date=2026-10-15")
    assert "2026年10月" in page.locator(".agenda-title").inner_text()
    assert page.locator("td[data-day='2026-10-01'] .day-note").inner_text() == "休·国庆节"
    page.click("a:has-text('周视图')")
    page.wait_for_load_state("networkidle")
    days = page.locator("td[data-day]").evaluate_all("cells => cells.map(c => c.dataset.day)")
    assert days == [f"2026-10-{d:02d}" for d in range(12, 19)]
    _shot(page, "calendar_week")
