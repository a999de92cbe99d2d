"""Jinja filters shared by console pages and printed forms."""

from flask import Flask

from models.enums import LABELS
from models.identifiers import mask_id_number, mask_phone
from models.time import format_beijing, to_beijing


def enum_label(value: object, enum_name: str) -> str:
    """Label of a stored enum value, looked up by the enum class name (e.g. 'Status')."""
    if value is None or value == "":
        return ""
    for enum_cls, labels in LABELS.items():
        if enum_cls.__name__ == enum_name:
            return labels[enum_cls(value)]
    raise KeyError(enum_name)


def beijing_minute(value) -> str:
    """A stored UTC time as Beijing time to the minute, the way a printed form shows it."""
    local = to_beijing(value)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["label"] = enum_label
    app.jinja_env.filters["beijing"] = format_beijing
    app.jinja_env.filters["beijing_minute"] = beijing_minute
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["mask_phone"] = mask_phone
