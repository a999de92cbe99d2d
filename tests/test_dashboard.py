"""The home page's figures for every role: counted by the requirement here, compared with the page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Case, Evaluation, FollowUp
from models.time import today_beijing
from tests.scope_cases import ROLE_OF, sign_in, visible_ids

# domain.md 1.9: a case waiting for papers or being worked on runs against its promised date.
RUNNING = ("submitted", "registered", "accepted", "in_progress")


def _figure(home: str, caption: str) -> int:
    match = re.search(re.escape(caption) + r'</div>\s*<div class="h3 mb-0">(?:<a[^>]*>)?(\d+)<', home)
    assert match, caption
    return int(match.group(1))


@pytest.mark.parametrize("username", list(ROLE_OF))
def test_each_roles_home_figures_are_exact(client, username):
    cases = visible_ids(Case, username)
    expected = {
        "total": len(cases),
        "overdue": db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.id.in_(cases), Case.status.in_(RUNNING), Case.promised_date < today_beijing())
        ),
        # 差评: 不满意 (2) or 非常不满意 (1), on the evaluation that counts.
        "bad": db.session.scalar(
            select(func.count())
            .select_from(Evaluation)
            .where(Evaluation.case_id.in_(cases), Evaluation.counted, Evaluation.overall <= 2)
        ),
        "open": db.session.scalar(
            select(func.count()).select_from(FollowUp).where(FollowUp.case_id.in_(cases), FollowUp.status != "closed")
        ),
    }
    if username == "qu_admin":
        assert all(expected.values()), "the demo data should exercise every figure"
    sign_in(client, username)
    home = client.get("/admin/").get_data(as_text=True)
    shown = {
        "total": _figure(home, "本级及下辖案件总数"),
        "overdue": _figure(home, "已超期未办结"),
        "bad": _figure(home, "差评(不满意/非常不满意)"),
        "open": _figure(home, "未办结的差评与投诉回访"),
    }
    assert shown == expected
