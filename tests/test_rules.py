"""The hierarchy, stationing and free-service rules hold on every flush, not only in forms."""

from decimal import Decimal

import pytest

from extensions import db
from lifecycle.errors import RuleError
from models import Case, CaseFee, Center
from models.enums import Mode, Tier
from tests.builders import make_applicant, make_case, make_center, make_district, make_item


@pytest.fixture
def tree(app):
    district = make_district()
    town = make_center(district, Tier.TOWN, "峡山街道便民服务中心")
    village = make_center(town, Tier.VILLAGE, "东山社区便民服务站")
    db.session.commit()
    return district, town, village


def _flush_error(obj) -> dict[str, str]:
    db.session.add(obj)
    with pytest.raises(RuleError) as info:
        db.session.flush()
    db.session.rollback()
    return info.value.errors


def test_a_village_cannot_hang_under_a_village(tree):
    _, _, village = tree
    errors = _flush_error(Center(tier=Tier.VILLAGE.value, parent=village, name="某村便民服务站"))
    assert "不能设在村(社区)之下" in errors["parent"]


def test_a_town_must_hang_under_the_district(tree):
    _, town, _ = tree
    errors = _flush_error(Center(tier=Tier.TOWN.value, parent=town, name="陈店镇便民服务中心"))
    assert "只能隶属区级" in errors["parent"]


def test_a_second_district_center_is_refused(tree):
    errors = _flush_error(Center(tier=Tier.DISTRICT.value, name="另一个区级中心"))
    assert "只能有一个区级" in errors["tier"]


def test_a_center_with_children_cannot_change_tier(tree):
    _, town, _ = tree
    town.tier = Tier.VILLAGE.value
    with pytest.raises(RuleError):
        db.session.flush()
    db.session.rollback()


def test_a_village_without_parent_is_refused(tree):
    errors = _flush_error(Center(tier=Tier.VILLAGE.value, name="孤立便民服务站"))
    assert "须隶属" in errors["parent"]


def test_a_case_for_an_item_not_stationed_at_the_center_is_refused(tree):
    district, town, village = tree
    district_only = make_item([district], code="Q-1", name="企业设立登记")
    applicant = make_applicant(village)
    case = Case(center=village, mode=Mode.ON_SITE.value, applicant=applicant, received_date=applicant_date())
    case.items = [district_only]
    errors = _flush_error(case)
    assert "未进驻东山社区便民服务站" in errors["items"]
    assert db.session.query(Case).count() == 0


def applicant_date():
    import datetime as dt

    return dt.date(2026, 9, 28)


def test_a_stationed_item_is_accepted_and_the_case_gets_a_number_and_deadline(tree):
    _, _, village = tree
    item = make_item([village], code="C-1", name="社会保障卡申领", time_limit_days=5)
    case = make_case(village, [item], make_applicant(village))
    db.session.commit()
    assert case.number == "CN-C-20260928-0001"
    assert case.origin_center == village
    assert case.status == "registered"
    # 2026-09-28 + 5 working days: 09-29, 09-30, (National Day 10-01..10-07 off), 10-08, 10-09,
    # and Saturday 10-10, an adjusted working day.
    import datetime as dt

    assert case.promised_date == dt.date(2026, 10, 10)


def test_a_fee_without_statutory_basis_is_refused(tree):
    _, _, village = tree
    free_item = make_item([village], code="C-2", name="城乡居民养老保险参保登记")
    case = make_case(village, [free_item], make_applicant(village))
    db.session.commit()
    case.fees.append(CaseFee(item=free_item, amount=Decimal("10.00"), legal_basis="无"))
    with pytest.raises(RuleError) as info:
        db.session.flush()
    assert "一律免费" in info.value.errors["fees"]
    db.session.rollback()


def test_a_fee_above_the_statutory_amount_is_refused(tree):
    district, _, _ = tree
    item = make_item(
        [district], code="Q-2", name="不动产登记", fee_amount=Decimal("80"), fee_basis="不动产登记收费标准"
    )
    case = make_case(district, [item], make_applicant(district))
    db.session.commit()
    case.fees.append(CaseFee(item=item, amount=Decimal("100"), legal_basis="不动产登记收费标准"))
    with pytest.raises(RuleError) as info:
        db.session.flush()
    assert "不能超过法定标准80" in info.value.errors["fees"]
    db.session.rollback()
    case.fees.append(CaseFee(item=item, amount=Decimal("80"), legal_basis="不动产登记收费标准"))
    db.session.commit()
    assert len(case.fees) == 1


def test_a_service_item_fee_needs_a_legal_basis(tree):
    district, _, _ = tree
    with pytest.raises(RuleError) as info:
        make_item([district], code="Q-3", name="某收费事项", fee_amount=Decimal("5"), fee_basis="")
    assert "收费依据" in info.value.errors["fee_basis"]
    db.session.rollback()


def test_a_person_with_a_bad_id_check_digit_is_refused(tree):
    _, _, village = tree
    with pytest.raises(RuleError) as info:
        make_applicant(village, id_number="440514198001011233")
    assert "校验位不正确" in info.value.errors["id_number"]
    db.session.rollback()


def test_an_organization_with_a_bad_credit_code_is_refused(tree):
    _, _, village = tree
    with pytest.raises(RuleError) as info:
        make_applicant(
            village,
            kind="organization",
            name="某公司",
            id_type=None,
            id_number=None,
            gender=None,
            credit_code="91440514MA4W00011B",
            contact_name="李经办",
        )
    assert "校验位不正确" in info.value.errors["credit_code"]
    db.session.rollback()


def test_remote_and_door_to_door_cases_need_their_details(tree):
    _, _, village = tree
    item = make_item([village], code="C-3", name="医保异地就医备案")
    applicant = make_applicant(village)
    remote = Case(center=village, mode=Mode.REMOTE.value, applicant=applicant, received_date=applicant_date())
    remote.items = [item]
    assert "远程方式" in _flush_error(remote)["remote_channel"]
    applicant = make_applicant(village, id_number="440514199006150025", name="林小红")
    door = Case(center=village, mode=Mode.DOOR_TO_DOOR.value, applicant=applicant, received_date=applicant_date())
    door.items = [item]
    assert "上门地址" in _flush_error(door)["visit_address"]


def test_case_numbers_count_up_per_tier_and_day(tree):
    _, town, village = tree
    item = make_item([town, village], code="Z-1", name="低保申请")
    applicant = make_applicant(village)
    first = make_case(village, [item], applicant)
    second = make_case(village, [item], applicant)
    third = make_case(town, [item], applicant)
    db.session.commit()
    assert [first.number, second.number, third.number] == [
        "CN-C-20260928-0001",
        "CN-C-20260928-0002",
        "CN-Z-20260928-0001",
    ]
