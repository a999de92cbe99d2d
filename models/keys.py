"""Database keys as they arrive from outside (URLs, forms, tokens, cookies): plain digits or nothing.

int() is too lenient for a key: it reads " 7", "+7", "7_0" and Unicode digits ("١" is 1), raises
on others that str.isdigit() accepts ("²"), and returns integers no database column holds
(SQLite's driver raises OverflowError beyond 64 bits; PostgreSQL refuses them for integer columns).
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_KEY = 2**63 - 1  # the largest signed 64-bit integer (SQLite INTEGER, PostgreSQL bigint)
_MAX_DIGITS = len(str(MAX_KEY))


def parse_key(value: object) -> int | None:
    """The key `value` spells in ASCII digits within a signed 64-bit integer, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_KEY else None
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    key = int(value)
    return key if key <= MAX_KEY else None


def parse_keys(values: Iterable[object]) -> list[int]:
    """The well-formed keys among `values`, first occurrence first; the rest are dropped."""
    keys = (parse_key(value) for value in values)
    return list(dict.fromkeys(key for key in keys if key is not None))
