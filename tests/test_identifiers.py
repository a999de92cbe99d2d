"""Check digits and masking, with the vectors of domain.md section 5."""

import datetime as dt

import pytest

from models.identifiers import (
    credit_code_error,
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
