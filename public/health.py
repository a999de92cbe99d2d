"""The load balancer's health check: GET /healthz answers 200 while this app server can serve.

It checks the database, and Redis wherever it is configured: the rate-limit counters
(RATELIMIT_STORAGE_URI) and the task queue (TASK_QUEUE_URL). Each check opens a connection of its
own with a short timeout, so a probe never waits on a dead host for long and keeps no state.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, current_app, jsonify
from huey.storage import RedisStorage
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from jobs.queue import huey

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

TIMEOUT_SECONDS = 2
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("健康检查：数据库不可用")
        db.session.rollback()
        return False
    return True


def _ping(client: redis.Redis, what: str) -> bool:
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        log.exception("健康检查：%s 的 Redis 不可用", what)
        return False
    finally:
        client.close()


def _rate_limit_redis() -> redis.Redis | None:
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "")
    if not uri.startswith(_REDIS_SCHEMES):
        return None
    return redis.Redis.from_url(uri, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)


def _queue_redis() -> redis.Redis | None:
    storage = huey.storage
    if not isinstance(storage, RedisStorage):
        return None  # the SQLite queue is a file beside the app, not a service to probe
    pool = storage.conn.connection_pool
    settings = dict(pool.connection_kwargs, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **settings))


@bp.get("/healthz")
def healthz():
    report = {"database": "ok" if _database_ok() else "unreachable"}
    for name, client in (("rate_limit", _rate_limit_redis()), ("task_queue", _queue_redis())):
        if client is not None:
            report[name] = "ok" if _ping(client, name) else "unreachable"
    # Without the database or the rate-limit counters this server cannot serve a page or a login
    # (Flask-Limiter fails the request), so the balancer should send clerks to another server.
    # Without the queue it still serves everything but a new batch export: "degraded", kept in
    # the pool, so that a queue outage does not take every app server out together.
    if "unreachable" in (report["database"], report.get("rate_limit")):
        return jsonify(status="error", **report), 503
    if report.get("task_queue") == "unreachable":
        return jsonify(status="degraded", **report), 200
    return jsonify(status="ok", **report), 200
