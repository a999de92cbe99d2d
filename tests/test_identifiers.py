"""Check digits and masking, with the vectors of domain.md section 5."""

import datetime as dt

import pytest
from stdnum.cn import ric, uscc

from models.identifiers import (
    credit_check_char,
    credit_code_error,
    id_check_char,
    id_gender,
    id_number_error,
    is_valid_credit_code,
    is_valid_id_number,
    mask_id_number,
    mask_phone,
    normalize_phone,
    org_code_check_ok,
    phone_error,
    upgrade_legacy_id_number,
)

# Where python-stdnum's validate() and the domain disagree, the domain wins (models/identifiers.py
# uses only stdnum's check characters and birth-date parsing). Each case below is a real kind of number.


@pytest.mark.parametrize(
    "number",
    [
        # Born 1970 under 潮阳县's code (440524, 1983-1993): numbers were first issued in the 1980s, so
        # the code is the county at first registration, not at birth (domain.md 4 and 5.1).
        "440524197008087713",
        # Born 1985 under 县级潮阳市 (440582, 1993-2003), registered after 1993.
        "440582198503152461",
        # Born 1980, registered in 潮南 (440514, created 2003) later: late or moved registration.
        "440514198001011232",
        # 台湾居民居住证: address code 830000, same check character (domain.md 5.1); stdnum's table has
        # no 830000.
        "830000199001011234",
    ],
)
def test_ids_that_stdnum_rejects_for_their_address_code_are_accepted(number):
    assert not ric.is_valid(number)
    assert id_number_error(number) is None


def test_full_width_digits_are_refused_although_stdnum_folds_them_to_ascii():
    number = "４４０５１４１９８００１０１１２３２"
    assert ric.compact(number) == "440514198001011232"
    assert "前17位应为数字" in id_number_error(number)


def test_a_village_collective_credit_code_starting_with_n2_is_accepted_although_stdnum_wants_digits():
    # GB 32100 登记管理部门 N = 农业农村 (村集体经济组织 N2, 农民专业合作社 N3); domain.md 5.2 says
    # to accept any character of the alphabet in positions 1-2.
    code = "N2440514MF1234567N"
    assert not uscc.is_valid(code)
    assert credit_code_error(code) is None
    assert credit_code_error("N2440514MF1234567P") == "统一社会信用代码校验位不正确，请核对后重新输入"


@pytest.mark.parametrize(
    ("check", "first17"), [(id_check_char, "4405141980010112"), (credit_check_char, "91440514MI4W0001")]
)
def test_check_characters_refuse_a_body_of_the_wrong_length_or_alphabet(check, first17):
    with pytest.raises(ValueError):
        check(first17)
    with pytest.raises(ValueError):
        check(first17 + "!")


@pytest.mark.parametrize(
    "number",
    [
        "440514198001011232",
        "440514199006150025",
        "440582198503152461",
        "440524197008087713",
        "11010519491231002X",
        "11010519491231002x",  # lower-case x is accepted and normalised
    ],
)
def test_valid_id_numbers_pass_the_gb11643_check(number):
    assert is_valid_id_number(number)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("440514198001011233", "校验位不正确"),
        ("44051419800101123", "应为18位"),
        ("44051419800101123A", "末位为数字或X"),
        ("440514198002301234", "不是有效日期"),
        ("440514189001011234", "超出合理范围"),
        ("440514209901011234", "超出合理范围"),
    ],
)
def test_invalid_id_numbers_get_a_chinese_reason(number, message):
    assert message in id_number_error(number, today=dt.date(2026, 11, 26))


def test_a_legacy_15_digit_number_upgrades_to_a_valid_18_digit_one():
    assert upgrade_legacy_id_number("440524800101123") == "440524198001011235"


def test_gender_follows_the_parity_of_the_sequence_digit():
    assert id_gender("440514198001011232") == "male"
    assert id_gender("440514199006150025") == "female"


@pytest.mark.parametrize(
    "code",
    [
        "91440514MA4W00011A",
        "92440514MA4W000117",
        "93440514MA4W000114",
        "11440514MA4W00011J",
        "52440514MA4W00011B",
        "91350100M000100Y43",
    ],
)
def test_valid_credit_codes_pass_the_gb32100_check(code):
    assert is_valid_credit_code(code)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91440514MA4W00011B", "校验位不正确"),
        ("91440514MA4W0001", "应为18位"),
        ("91440514MI4W00011A", "不允许的字符"),
        ("9144A514MA4W00011A", "行政区划代码"),
    ],
)
def test_invalid_credit_codes_get_a_chinese_reason(code, message):
    assert message in credit_code_error(code)


def test_the_inner_organization_code_check_follows_gb11714():
    assert org_code_check_ok("D2143569X")
    assert not org_code_check_ok("D21435691")


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-13800138000", "13800138000"),
        ("0754-87654321", "0754-87654321"),
        ("075487654321", "075487654321"),
        ("14512345678", "14512345678"),
    ],
)
def test_good_phone_numbers_are_accepted(raw, normalised):
    assert phone_error(raw) is None
    assert normalize_phone(raw) == normalised


@pytest.mark.parametrize("raw", ["12345678901", "1380013800", "020-12345678", "abc", ""])
def test_bad_phone_numbers_are_rejected_in_chinese(raw):
    assert "手机号码" in phone_error(raw)


def test_masks_hide_the_middle_of_id_and_phone_numbers():
    assert mask_id_number("440514198001011232") == "440514********1232"
    assert mask_phone("13800138000") == "138****8000"
