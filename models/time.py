"""Time helpers: timestamps are stored in UTC and shown in Beijing time (+08:00)."""

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> dt.datetime:
    """Naive UTC now, the form every timestamp column stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_beijing(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).astimezone(BEIJING)


def beijing_date(value: dt.datetime) -> dt.date:
    """The Beijing calendar day of a stored UTC time: the day a deadline counts from or a form prints."""
    return value.replace(tzinfo=dt.UTC).astimezone(BEIJING).date()


def format_beijing(value: dt.datetime | None) -> str:
    local = to_beijing(value)
    return local.strftime("%Y-%m-%d %H:%M:%S +08:00") if local else ""


def today_beijing() -> dt.date:
    return dt.datetime.now(BEIJING).date()
