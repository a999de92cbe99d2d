"""The task queue. huey keeps its queue in SQLite by default (no server: the embedded setup) and
in Redis at scale (TASK_QUEUE_URL=redis://host:6379/0), where workers on many machines share it.

The web app enqueues; `huey_consumer worker.huey` (started by `make run`) executes.
"""

from __future__ import annotations

import os
from pathlib import Path

from huey import Huey
from huey.storage import BaseStorage, MemoryStorage, RedisStorage, SqliteStorage

from config import INSTANCE_DIR

# Workers and web processes sharing a queue must agree on its URL and name.
NAME = os.environ.get("TASK_QUEUE_NAME", "chaonan-console")


def default_url() -> str:
    return os.environ.get("TASK_QUEUE_URL") or f"sqlite:///{INSTANCE_DIR / 'tasks.db'}"


def storage_for(url: str, name: str = NAME) -> BaseStorage:
    """The huey storage a queue URL names: sqlite:///<path> or redis://host:port/db."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage(name, url=url)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStorage(name, filename=str(path))
    raise ValueError(f"不支持的任务队列地址：{url}（应为 sqlite:///路径 或 redis://主机:端口/库）")


# results=False: a job's state lives in the database (ExportJob), not in the queue.
huey = Huey(NAME, results=False, utc=True, storage_class=MemoryStorage)
huey.storage = storage_for(default_url())


def connect(url: str, name: str = NAME) -> None:
    """Point this process's queue at another store (tests run the same tasks on SQLite and Redis)."""
    huey.storage = storage_for(url, name)
