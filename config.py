"""Configuration read from environment variables, with safe development defaults."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


# The development default; `flask security-check` and a production start refuse it (security.py).
DEFAULT_SECRET_KEY = "dev-only-not-for-production"


def _sqlite_default() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'console.db'}"


def database_url(url: str) -> str:
    """`url` with psycopg 3 as the driver where it names PostgreSQL without one.

    SQLAlchemy reads a bare postgresql:// as psycopg2, which is not installed, and no longer knows
    postgres:// (Heroku's form) at all; an explicit driver (postgresql+...://) is left alone.
    """
    scheme, separator, rest = url.partition("://")
    if separator and scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url


class Config:
    # "production" makes create_app refuse unsafe settings; see `flask security-check`.
    ENV_NAME = os.environ.get("APP_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    # Key of the audit log's HMAC chain, kept out of the database so that whoever can rewrite the
    # database cannot recompute the chain. Empty: derived from SECRET_KEY, for development only
    # (production refuses to start without a key of its own).
    AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "")
    # Signed checkpoints of the chain's end (`flask audit checkpoint`); keep the file, or copies of
    # its lines, where the database's administrators cannot rewrite it.
    AUDIT_CHECKPOINT_FILE = os.environ.get("AUDIT_CHECKPOINT_FILE", str(INSTANCE_DIR / "audit-checkpoints.log"))
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL") or _sqlite_default())
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    FLASK_ADMIN_SWATCH = "default"

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token instead

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1" if ENV_NAME == "production" else "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    # Working days a bad-review follow-up has before it is overdue (domain.md 2.1: 15 is the local default).
    FOLLOWUP_WORKING_DAYS = int(os.environ.get("FOLLOWUP_WORKING_DAYS", "15"))
    # Rate limits (login form, public evaluation page); storage is per process unless Redis is configured.
    # Set explicitly: Flask-Limiter otherwise carries the previous app's setting into the next one.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Keeps the counters of deployments (or test runs) that share one Redis database apart.
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "")
    # Failed logins per remote address (successful ones do not count: a whole center may sit behind
    # one address). Behind a reverse proxy the address must be the client's (ProxyFix).
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute; 50 per hour")
    # How many reverse proxies in front of the app set X-Forwarded-For / -Proto / -Host (werkzeug's
    # ProxyFix). 0, the default, trusts none of these headers: without a proxy a client could name
    # any address and escape the login throttle. Behind one nginx or load balancer: 1.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
    PROXY_FIX_X_PROTO = int(os.environ.get("PROXY_FIX_X_PROTO", "0"))
    PROXY_FIX_X_HOST = int(os.environ.get("PROXY_FIX_X_HOST", "0"))

    # The address printed in the forms' QR codes (verification page, evaluation link); a batch
    # worker has no request to take it from.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    # Batch PDF export: where finished files go, how long they are kept, how many cases a task
    # renders at a time, how many cases a merged PDF volume holds, the most cases per job, and
    # after how long without a heartbeat a chunk counts as abandoned by a dead worker.
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(INSTANCE_DIR / "exports"))
    EXPORT_RETENTION_HOURS = int(os.environ.get("EXPORT_RETENTION_HOURS", "72"))
    EXPORT_CHUNK_SIZE = int(os.environ.get("EXPORT_CHUNK_SIZE", "20"))
    EXPORT_VOLUME_CASES = int(os.environ.get("EXPORT_VOLUME_CASES", "500"))
    EXPORT_MAX_CASES = int(os.environ.get("EXPORT_MAX_CASES", "10000"))
    EXPORT_STALE_SECONDS = int(os.environ.get("EXPORT_STALE_SECONDS", "120"))
    # Masked CSV/XLSX exports of a list (admin_views/pii.py): the most rows one export writes, and
    # how many rows are read per batch (each batch costs the same few queries whatever its size).
    EXPORT_MAX_ROWS = int(os.environ.get("EXPORT_MAX_ROWS", "100000"))
    EXPORT_BATCH_ROWS = int(os.environ.get("EXPORT_BATCH_ROWS", "1000"))

    # Rows per list page; clerks page through a large register.
    ADMIN_PAGE_SIZE = 30
