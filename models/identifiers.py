"""Check digits and masking for ID numbers (GB 11643), credit codes (GB 32100) and phones."""

import datetime as dt
import re

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

# python-stdnum computes the check characters of both standards; the rest of each check stays here,
# because stdnum's validate() rejects numbers that are real (tests/test_identifiers.py names them):
# ric.validate() wants the address code to have existed in the birth year, so everyone registered
# under a county created after their birth fails (a 1970-born 潮阳县 440524 resident, anyone born
# before 2003 with 潮南's 440514), as do residence permits (830000) missing from its region table;
# uscc.validate() wants digits in positions 1-2, so a village collective's N2... code fails.
# Both also fold full-width digits to ASCII, which these checks refuse (the stored value is the input).

# GB 32100-2015: 31-character alphabet without I, O, Z, S, V.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# GB 11714-1997 organization code embedded at positions 9-17 of a credit code.
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

# re.ASCII: without it \d also matches "١" or "٣", digits the check-digit arithmetic cannot read.
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_SHANTOU_FIXED = re.compile(r"^0754-?\d{8}(-\d{1,6})?$", re.ASCII)


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" and "١"."""
    return text.isascii() and text.isdigit()


def normalize_id_number(value: str) -> str:
    return value.strip().upper()


def id_check_char(first17: str) -> str:
    if len(first17) != 17 or not _digits(first17):
        raise ValueError(f"17 ASCII digits expected, got {first17!r}")
    # stdnum takes the whole number and ignores its last character.
    return ric.calc_check_digit(first17 + "?")


def id_number_error(value: str, today: dt.date | None = None) -> str | None:
    """Chinese message explaining why an 18-digit ID number is invalid, or None if it is valid."""
    number = normalize_id_number(value)
    if len(number) != 18:
        return "身份证号码应为18位"
    if not _digits(number[:17]) or not (_digits(number[17]) or number[17] == "X"):
        return "身份证号码前17位应为数字，末位为数字或X"
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        return "身份证号码中的出生日期不是有效日期"
    if birth.year < 1900 or birth > (today or dt.date.today()):
        return "身份证号码中的出生日期超出合理范围"
    if id_check_char(number[:17]) != number[17]:
        return "身份证号码校验位不正确，请核对后重新输入"
    return None


def is_valid_id_number(value: str) -> bool:
    return id_number_error(value) is None


def upgrade_legacy_id_number(value: str) -> str:
    """Turn a 15-digit (GB 11643-1989) number into its 18-digit form."""
    first17 = value[:6] + "19" + value[6:]
    return first17 + id_check_char(first17)


def id_gender(value: str) -> str:
    """'male' or 'female' from the sequence digit of an 18-digit ID number."""
    return "male" if int(value[16]) % 2 else "female"


def credit_check_char(first17: str) -> str:
    if len(first17) != 17 or any(c not in _CREDIT_ALPHABET for c in first17):
        raise ValueError(f"17 characters of the GB 32100 alphabet expected, got {first17!r}")
    return uscc.calc_check_digit(first17)


def credit_code_error(value: str) -> str | None:
    """Chinese message explaining why a unified social credit code is invalid, or None."""
    code = value.strip().upper()
    if len(code) != 18:
        return "统一社会信用代码应为18位"
    bad = [c for c in code if c not in _CREDIT_ALPHABET]
    if bad:
        return f"统一社会信用代码含有不允许的字符：{''.join(sorted(set(bad)))}"
    if not _digits(code[2:8]):
        return "统一社会信用代码第3至8位应为行政区划代码"
    if credit_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确，请核对后重新输入"
    return None


def is_valid_credit_code(value: str) -> bool:
    return credit_code_error(value) is None


def org_code_check_ok(body9: str) -> bool:
    """Inner GB 11714 check; advisory only, some issued codes fail it (domain.md 5.2)."""

    def val(c: str) -> int:
        return int(c) if _digits(c) else ord(c) - 55

    try:
        total = sum(val(c) * w for c, w in zip(body9[:8], _ORG_WEIGHTS, strict=True))
    except (TypeError, ValueError):
        return False
    check = 11 - total % 11
    expected = {10: "X", 11: "0"}.get(check, str(check))
    return body9[8] == expected


def normalize_phone(value: str) -> str:
    phone = re.sub(r"[\s()（）]", "", value.strip())
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
    if phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if _MOBILE.match(phone.replace("-", "")):
        return phone.replace("-", "")
    return phone


def phone_error(value: str) -> str | None:
    """Chinese message for a number that is neither a mainland mobile nor a 0754 landline."""
    phone = normalize_phone(value)
    if _MOBILE.match(phone) or _SHANTOU_FIXED.match(phone):
        return None
    return "请输入11位手机号码或0754开头的固定电话(如0754-87654321)"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    digits = value.replace("-", "")
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    return value[:-4] + "****" if len(value) > 4 else "****"
