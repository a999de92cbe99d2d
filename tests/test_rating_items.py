"""The rating items of 附件6 评价表 read the same on every surface, in the form's wording and order.

The expected list is written here by hand from domain.md §1.8 (the evaluation form), not read from
models.evaluation: a page restating its own copy of the items, or a renamed item, fails here.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from flask import current_app
from sqlalchemy import select

from extensions import db
from lifecycle.evaluation_links import token_for
from models import Case, Evaluation
from models.enums import Mode, Status
from models.time import utcnow
from tests import pdftext
from tests.builders import login_as

PLAN_ITEMS = ["总体评价", "服务态度", "办事效率(是否按时)", "业务水平", "进度告知", "廉洁自律"]


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


@pytest.fixture
def evaluated(demo_app) -> Case:
    """A completed delegated case (annex 6 is for those) whose counted evaluation is on file."""
    case = db.session.scalar(
        select(Case)
        .where(
            Case.status == Status.COMPLETED.value,
            Case.mode == Mode.DELEGATED.value,
            Case.evaluation.has(Evaluation.counted.is_(True)),
        )
        .order_by(Case.id)
        .limit(1)
    )
    assert case is not None
    return case


@pytest.fixture
def admin(client):
    login_as(client, "qu_admin")
    return client


def test_the_public_form_asks_the_plan_items_in_order(demo_app):
    case = db.session.scalar(
        select(Case)
        .where(Case.status == Status.COMPLETED.value, ~Case.evaluation.has(), Case.evaluation_link.has())
        .order_by(Case.id)
        .limit(1)
    )
    case.evaluation_link.expires_at = utcnow() + dt.timedelta(days=1)
    db.session.commit()
    token = token_for(case.evaluation_link, current_app.config["SECRET_KEY"].encode())
    body = demo_app.test_client().get(f"/e/{token}").get_data(as_text=True)
    legends = [_text(m) for m in re.findall(r"<legend[^>]*>(.*?)<span", body, re.S)]
    assert legends == PLAN_ITEMS


def test_the_console_form_details_and_list_use_the_plan_items(admin, evaluated):
    form = admin.get("/admin/evaluation/new/").get_data(as_text=True)
    fields = ["overall", "attitude", "efficiency", "competence", "communication", "integrity"]
    labels = [_text(re.search(rf'<label[^>]*for="{f}"[^>]*>(.*?)</label>', form, re.S).group(1)) for f in fields]
    assert [label.rstrip("*").strip() for label in labels] == PLAN_ITEMS

    details = admin.get(f"/admin/evaluation/details/?id={evaluated.evaluation.id}").get_data(as_text=True)
    names = [_text(m) for m in re.findall(r"<td>\s*<b>(.*?)</b>\s*</td>", details, re.S)]
    assert [n for n in names if n in PLAN_ITEMS or "效率" in n] == PLAN_ITEMS

    listing = admin.get("/admin/evaluation/").get_data(as_text=True)
    headers = [_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", listing, re.S)]
    assert "总体评价" in headers


def test_the_case_page_shows_the_plan_items(admin, evaluated):
    body = admin.get(f"/admin/case/details/?id={evaluated.id}").get_data(as_text=True)
    block = re.search(r'<dl class="row counted-evaluation">(.*?)</dl>', body, re.S).group(1)
    overall = _text(re.search(r"<dt[^>]*>(.*?)</dt>", block, re.S).group(1))
    items = _text(re.search(r'<dd class="col-10 rating-items">(.*?)</dd>', block, re.S).group(1))
    scored = re.findall(r"(\S+) [1-5]", items.split("（")[0])
    assert [overall, *scored] == PLAN_ITEMS


def test_annex_6_prints_the_plan_items(admin, evaluated):
    response = admin.get(f"/admin/case/annex/6/?id={evaluated.id}")
    assert response.mimetype == "application/pdf"
    text = pdftext.text(response.get_data())
    grid = text.split("评价项目非常满意满意基本满意不满意非常不满意", 1)[1].split("办理过程中", 1)[0]
    # Each row of the grid: the item, then one box per level.
    assert re.sub("[■□]+", "/", grid).strip("/").split("/") == PLAN_ITEMS
