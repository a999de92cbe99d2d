"""The load balancer's health check: GET /healthz answers 200 while this app server reaches its database."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    # Only "is the database there": a check that also waited on Redis or the workers would take every
    # app server out of the pool together when the queue alone is down, and consoles still serve.
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("健康检查：数据库不可用")
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
