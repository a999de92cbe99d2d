"""Password policy (ASVS 2.1 / MLPS 2.0 身份鉴别): length, character classes, no username."""

import re

MIN_LENGTH = 10


def password_error(password: str, username: str) -> str | None:
    """Chinese message for a password that breaks the policy, or None."""
    if len(password) < MIN_LENGTH:
        return f"密码长度至少{MIN_LENGTH}位"
    classes = sum(bool(re.search(pattern, password)) for pattern in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    if classes < 3:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    return None
