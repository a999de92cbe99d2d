"""Who may change a case: can_change_case agrees with scope_clause(Case, write=True) everywhere.

The expected answers are written by hand from the plan's tiers (district admin: everything;
auditor: nothing; town admin: its town center and the villages under it; village operator: its
own station), for every position a case can hold relative to the user, a handed-up case included.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from lifecycle.scope import can_change_case, scope_clause
from models import Case
from models.enums import Role, Tier
from tests.builders import make_applicant, make_case, make_center, make_district, make_item, make_user

# The case's position, seen from the town admin of 峡山 and the operator of its 东山 station.
POSITIONS = [
    "own station",  # 东山社区便民服务站
    "another village of the same town",  # 桃溪社区便民服务站
    "the town center",  # 峡山街道便民服务中心
    "another town",  # 陈店镇便民服务中心
    "a village of another town",  # 文光社区便民服务站
    "the district center",  # 潮南区政务服务中心
    "handed up from own station to the town",  # received at 东山, now held by 峡山
]

YES, NO = True, False
# role: may change the case at each position, in the order of POSITIONS.
EXPECTED = {
    Role.DISTRICT_ADMIN: (YES, YES, YES, YES, YES, YES, YES),
    Role.AUDITOR: (NO, NO, NO, NO, NO, NO, NO),
    Role.TOWN_ADMIN: (YES, YES, YES, NO, NO, NO, YES),
    Role.VILLAGE_OPERATOR: (YES, NO, NO, NO, NO, NO, NO),
}


@pytest.fixture
def world(app):
    district = make_district()
    town = make_center(district, Tier.TOWN, "峡山街道便民服务中心")
    village = make_center(town, Tier.VILLAGE, "东山社区便民服务站")
    sister = make_center(town, Tier.VILLAGE, "桃溪社区便民服务站")
    other_town = make_center(district, Tier.TOWN, "陈店镇便民服务中心")
    other_village = make_center(other_town, Tier.VILLAGE, "文光社区便民服务站")
    centers = [village, sister, town, other_town, other_village, district]
    item = make_item(centers, code="C-1", name="社会保障卡申领")
    applicant = make_applicant(village)
    cases = {position: make_case(at, [item], applicant) for position, at in zip(POSITIONS[:-1], centers, strict=True)}
    handed_up = make_case(village, [item], applicant)
    handed_up.center = town
    db.session.flush()
    assert handed_up.origin_center_id == village.id
    cases[POSITIONS[-1]] = handed_up
    users = {
        Role.DISTRICT_ADMIN: make_user("qu_admin", Role.DISTRICT_ADMIN, district),
        Role.AUDITOR: make_user("qu_audit", Role.AUDITOR, district),
        Role.TOWN_ADMIN: make_user("xiashan_admin", Role.TOWN_ADMIN, town),
        Role.VILLAGE_OPERATOR: make_user("xiashan_dongshan", Role.VILLAGE_OPERATOR, village),
    }
    db.session.commit()
    return users, cases


@pytest.mark.parametrize("role", list(EXPECTED))
def test_can_change_case_agrees_with_the_write_clause_and_the_plan(world, role):
    users, cases = world
    user = users[role]
    in_clause = set(db.session.scalars(select(Case.id).where(scope_clause(Case, user, write=True))))
    for position, expected in zip(POSITIONS, EXPECTED[role], strict=True):
        case = cases[position]
        assert can_change_case(user, case) is expected, (role, position)
        assert (case.id in in_clause) is expected, (role, position)


def test_a_handed_up_case_stays_readable_by_the_station_that_received_it(world):
    users, cases = world
    operator = users[Role.VILLAGE_OPERATOR]
    readable = set(db.session.scalars(select(Case.id).where(scope_clause(Case, operator))))
    assert cases["handed up from own station to the town"].id in readable
    assert not can_change_case(operator, cases["handed up from own station to the town"])
