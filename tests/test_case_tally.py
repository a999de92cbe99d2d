"""The case tally (models/case_tally.py) holds exactly what counting the cases gives, whatever happens to them.

The expected counts are taken from the case table with a plain GROUP BY, never from the tally's
own code; the home page's figure is read from the page a town admin opens.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from extensions import db
from lifecycle.transitions import transition
from models import Case, CaseTally
from tests.builders import center, login_as, make_applicant, make_case, user
from tests.scope_cases import item_stationed_at


def _direct() -> dict[tuple[int, int, str], int]:
    rows = db.session.execute(
        select(Case.center_id, Case.origin_center_id, Case.status, func.count()).group_by(
            Case.center_id, Case.origin_center_id, Case.status
        )
    )
    return {(c, o, s): n for c, o, s, n in rows}


def _tally() -> dict[tuple[int, int, str], int]:
    rows = db.session.execute(
        select(CaseTally.center_id, CaseTally.origin_center_id, CaseTally.status, CaseTally.cases)
    )
    return {(c, o, s): n for c, o, s, n in rows if n}


def _town_total_on_home_page(client) -> int:
    home = client.get("/admin/").get_data(as_text=True)
    match = re.search(r'本级及下辖案件总数</div>\s*<div class="h3 mb-0">(\d+)<', home)
    assert match
    return int(match.group(1))


def test_the_tally_holds_the_counts_of_the_demo_cases(demo_app):
    assert _tally() == _direct()
    assert sum(_direct().values()) > 0


def test_the_tally_follows_a_case_created_handed_up_and_started(demo_app, client):
    station = center("东山社区便民服务站")
    clerk, town_admin = user("xiashan_dongshan"), user("xiashan_admin")
    town = [station.parent_id, *[c.id for c in station.parent.children]]
    town_cases = (
        select(func.count()).select_from(Case).where(Case.center_id.in_(town) | Case.origin_center_id.in_(town))
    )
    item = item_stationed_at(station, station.parent)
    login_as(client, "xiashan_admin")
    before = _town_total_on_home_page(client)

    case = make_case(station, [item], make_applicant(station, name="计数测试"))
    db.session.commit()
    assert _tally() == _direct()
    assert _town_total_on_home_page(client) == before + 1 == db.session.scalar(town_cases)
    transition(db.session, case, "hand_off", clerk, {"reason": "本站无法办理，转镇中心兜底"})
    assert (case.center_id, case.origin_center_id) == (station.parent_id, station.id)
    assert _tally() == _direct()
    transition(db.session, case, "start", town_admin)
    assert case.status == "in_progress"
    assert _tally() == _direct()
    assert _town_total_on_home_page(client) == before + 1 == db.session.scalar(town_cases)
