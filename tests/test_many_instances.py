"""Two app servers, each its own gunicorn on its own port, on one database and one Redis: what must be
shared is shared. Lockout counts, the per-address login limit, one-time evaluation links and sessions
hold whichever server a request reaches; the audit chain both servers extend stays one chain. And two
queue workers started separately, as on two machines, share one batch export's chunks.

The servers sit behind a pretend proxy (PROXY_FIX_X_FOR=1): each test names its clients' addresses
in X-Forwarded-For, as a load balancer would, so tests do not share one address's login limit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.cookiejar
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import func, select, update

import audit
from app import create_app
from config import DEFAULT_SECRET_KEY
from extensions import db
from jobs import export
from lifecycle.evaluation_links import token_for
from lifecycle.supervision import EVALUABLE
from models import AuditLog, Case, Center, Evaluation, EvaluationLink, ExportChunk, ExportJob, User
from models.enums import EvaluationChannel
from models.time import utcnow
from tests.builders import DEMO_PASSWORD, login_as, wait_until

ROOT = Path(__file__).resolve().parent.parent
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
WRONG = "Wrong#Pass2026"
LOGIN_LIMIT = 4  # per address and minute, on both servers together
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


# --- a browser that can talk to either server ------------------------------------------------------
@dataclass
class Page:
    status: int
    text: str
    headers: dict


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a test looks at the 302 itself


class Browser:
    """One client: one cookie jar, one address, requests to whichever server it is pointed at.

    Both servers are 127.0.0.1 (ports differ, and cookies ignore ports), so a cookie one server
    set goes to the other: what a load balancer in front of them does.
    """

    def __init__(self, address: str | None = None) -> None:
        self.address = address or next(_addresses)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def open(self, server: str, path: str, data: dict | None = None) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(server + path, data=body, headers={"X-Forwarded-For": self.address})
        try:
            with self.opener.open(request, timeout=60) as response:
                return Page(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Page(error.code, error.read().decode(), dict(error.headers))

    def csrf_token(self, server: str, path: str) -> str:
        return _csrf(self.open(server, path).text)

    def login(self, server: str, username: str, password: str) -> Page:
        token = self.csrf_token(server, "/login")
        return self.open(server, "/login", {"csrf_token": token, "username": username, "password": password})


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _failed(page: Page) -> bool:
    return page.status == 200 and "用户名或密码错误，或账号已被锁定" in page.text


# --- two servers on one database --------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "app:create_app()"]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def _wait_until_up(process: subprocess.Popen, server: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            with urllib.request.urlopen(server + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{server} did not come up: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Cluster:
    app: Flask  # in this process, on the same database, for reading what the servers wrote
    a: str
    b: str


def _open_links(count: int) -> list[str]:
    """Tokens of `count` evaluation links nobody has used, of evaluable cases the applicant has not rated."""
    rated = select(Evaluation.case_id).where(Evaluation.channel != EvaluationChannel.PAPER.value)
    links = db.session.scalars(
        select(EvaluationLink)
        .join(Case, Case.id == EvaluationLink.case_id)
        .where(EvaluationLink.used_at.is_(None), Case.status.in_([s.value for s in EVALUABLE]))
        .where(Case.id.not_in(rated))
        .order_by(EvaluationLink.id)
        .limit(count)
    ).all()
    assert len(links) == count
    for link in links:
        link.expires_at = utcnow() + dt.timedelta(days=10)  # the demo's story dates may have aged them
    db.session.commit()
    return [token_for(link, DEFAULT_SECRET_KEY.encode()) for link in links]


@pytest.fixture(scope="module")
def cluster(backend, tmp_path_factory):
    """Two servers on a copy of the demo database, for the module's tests on one pytest-xdist worker.

    Under `-n 2` both workers may run tests of this module and each then starts its own pair, on its
    own database (pytest-xdist's loadgroup, which would keep them on one worker, does not work with
    pytest 9: it renames item._nodeid, which pytest no longer reads).
    """
    tmp = tmp_path_factory.mktemp("cluster")
    url, drop = backend.fresh("demo", tmp)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        # One account keeps argon2's real cost (a fifth of a second between reading the row and
        # writing the count), so concurrent failures overlap for certain.
        db.session.execute(
            update(User).where(User.username == "chendian_wenguang").values(password_hash=PasswordHasher().hash("x"))
        )
        db.session.commit()
        app.config["LINKS"] = _open_links(2)
        db.session.remove()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        # The demo database's audit chain is keyed from the development SECRET_KEY (no AUDIT_HMAC_KEY):
        # both servers must carry the same key anyway to read each other's session cookies.
        SECRET_KEY=DEFAULT_SECRET_KEY,
        RATELIMIT_STORAGE_URI=TEST_REDIS_URL or "memory://",
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex[:12]}",
        LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per minute",
        PROXY_FIX_X_FOR="1",
        TASK_QUEUE_URL=f"sqlite:///{tmp / 'tasks.db'}",
        EXPORT_DIR=str(tmp / "exports"),
        AUDIT_CHECKPOINT_FILE=str(tmp / "audit-checkpoints.log"),
    )
    env.pop("APP_ENV", None)
    started = [_start_server(env, tmp / f"server-{name}.log") for name in "ab"]
    try:
        for (process, server), name in zip(started, "ab", strict=True):
            _wait_until_up(process, server, tmp / f"server-{name}.log")
        yield Cluster(app, started[0][1], started[1][1])
    finally:
        for process, _ in started:
            _stop(process)
        with app.app_context():
            db.engine.dispose()
        drop()


@pytest.fixture
def shared(cluster):
    """The shared database as this process sees it, read fresh by every query."""
    with cluster.app.app_context():
        yield cluster
        db.session.remove()


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _audit_count(event: audit.AuditEvent, username: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.event == event.value, AuditLog.username == username)
    )


def _together(*calls):
    """Run the calls at the same moment, one thread each; their results in order."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        start.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- account lockout -------------------------------------------------------------------------------
def test_failed_logins_alternating_between_the_servers_lock_the_account_at_the_fifth(shared):
    servers = [shared.a, shared.b] * 3
    # A new client address for each attempt: the per-address limit is another test's business.
    for server in servers[:4]:
        assert _failed(Browser().login(server, "chendian_admin", WRONG))
    account = _user("chendian_admin")
    assert account.failed_logins == 4 and account.locked_until is None
    assert _failed(Browser().login(servers[4], "chendian_admin", WRONG))
    account = _user("chendian_admin")
    assert account.locked_until is not None and account.locked_until > utcnow() + dt.timedelta(minutes=29)
    assert _audit_count(audit.AuditEvent.LOCKOUT, "chendian_admin") == 1
    # Locked everywhere: the right password on the other server is refused like a wrong one.
    refused = Browser().login(servers[5], "chendian_admin", DEMO_PASSWORD)
    assert _failed(refused)
    assert _audit_count(audit.AuditEvent.LOGIN_LOCKED, "chendian_admin") == 1


def test_simultaneous_failed_logins_on_both_servers_are_all_counted(shared):
    # Four at once, two per server (two gunicorn workers each): a count read, incremented in
    # Python and written back would lose some of them.
    attempts = [lambda s=server: Browser().login(s, "chendian_wenguang", WRONG) for server in (shared.a, shared.b) * 2]
    assert all(_failed(page) for page in _together(*attempts))
    assert _user("chendian_wenguang").failed_logins == 4
    assert _audit_count(audit.AuditEvent.LOGIN_FAILED, "chendian_wenguang") == 4
    assert _failed(Browser().login(shared.b, "chendian_wenguang", WRONG))
    assert _user("chendian_wenguang").locked_until is not None


# --- the per-address login limit (Redis) -----------------------------------------------------------
if TEST_REDIS_URL:  # CI sets it (.ci/run); without Redis each server counts alone, by design of memory://

    def test_the_per_address_login_limit_holds_across_both_servers(shared):
        client = Browser()
        servers = [shared.a, shared.b] * 3
        for server in servers[:LOGIN_LIMIT]:
            assert _failed(client.login(server, "no_such_user", WRONG))
        for server in servers[LOGIN_LIMIT : LOGIN_LIMIT + 2]:  # the next one, on either server, waits
            page = client.login(server, "no_such_user", WRONG)
            assert page.status == 429 and "该地址登录失败次数过多" in page.text
        assert Browser().login(shared.a, "no_such_user", WRONG).status == 200  # another address is not held up
        throttled = db.session.scalars(
            select(AuditLog.ip).where(AuditLog.event == audit.AuditEvent.LOGIN_THROTTLED.value)
        ).all()
        assert throttled.count(client.address) == 2


# --- one-time evaluation links ---------------------------------------------------------------------
_RATINGS = {"overall": "5", "attitude": "5", "efficiency": "4", "competence": "5", "communication": "5"}


def _evaluation(client: Browser, server: str, path: str) -> dict:
    return {"csrf_token": client.csrf_token(server, path), "integrity": "5", "comment": "服务很好", **_RATINGS}


def _link_evaluations(token: str) -> int:
    link_id = int(token.partition("-")[0])
    case_id = db.session.scalar(select(EvaluationLink.case_id).where(EvaluationLink.id == link_id))
    return db.session.scalar(
        select(func.count())
        .select_from(Evaluation)
        .where(Evaluation.case_id == case_id, Evaluation.channel == EvaluationChannel.LINK.value)
    )


def test_an_evaluation_link_used_on_one_server_is_refused_on_the_other(shared):
    path = f"/e/{shared.app.config['LINKS'][0]}"
    applicant = Browser()
    accepted = applicant.open(shared.a, path, _evaluation(applicant, shared.a, path))
    assert accepted.status == 200 and "评价已提交" in accepted.text
    again = Browser()
    page = again.open(shared.b, path)
    assert page.status == 410 and "该评价链接已使用" in page.text
    assert _link_evaluations(shared.app.config["LINKS"][0]) == 1


def test_of_two_simultaneous_submissions_one_to_each_server_exactly_one_is_accepted(shared):
    token = shared.app.config["LINKS"][1]
    path = f"/e/{token}"
    first, second = Browser(), Browser()
    forms = [_evaluation(first, shared.a, path), _evaluation(second, shared.b, path)]
    pages = _together(
        lambda: first.open(shared.a, path, forms[0]),
        lambda: second.open(shared.b, path, forms[1]),
    )
    assert sorted(page.status for page in pages) == [200, 410]
    assert sum("评价已提交" in page.text for page in pages) == 1
    assert sum("该评价链接已使用" in page.text for page in pages) == 1
    assert _link_evaluations(token) == 1


# --- sessions --------------------------------------------------------------------------------------
def test_a_session_from_one_server_works_on_the_other_and_a_logout_there_ends_it(shared):
    clerk = Browser()
    signed_in = clerk.login(shared.a, "xiashan_admin", DEMO_PASSWORD)
    assert signed_in.status == 302 and "/login" not in signed_in.headers["Location"]
    home = clerk.open(shared.b, "/admin/")
    assert home.status == 200 and "镇街管理员" in home.text
    stolen = http.cookiejar.CookieJar()  # a copy of the cookie as it was while signed in
    for cookie in clerk.jar:
        stolen.set_cookie(cookie)
    assert clerk.open(shared.b, "/logout", {"csrf_token": _csrf(home.text)}).status == 302
    replay = Browser(clerk.address)
    replay.jar = stolen
    replay.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(stolen), _NoRedirect)
    after = replay.open(shared.a, "/admin/")
    assert after.status == 302 and "/login" in after.headers["Location"]


# --- one audit chain -------------------------------------------------------------------------------
def test_the_audit_rows_both_servers_wrote_form_one_unbroken_chain(shared):
    Browser().login(shared.a, "no_such_user", WRONG)
    Browser().login(shared.b, "no_such_user", WRONG)
    check = audit.verify_chain(db.session, audit.chain_key(shared.app.config))
    assert check.intact, check.problem
    assert check.checked == db.session.scalar(select(func.count()).select_from(AuditLog))


# --- batch-export workers on several machines ------------------------------------------------------
# The queue_url fixture (tests/conftest.py) gives each test a private queue: SQLite, and Redis in CI.


def _start_worker(env: dict, log: Path) -> subprocess.Popen:
    """A queue worker as another machine would run it: its own process and process group."""
    command = [sys.executable, "-m", "huey.bin.huey_consumer", "worker.huey", "-k", "process", "-w", "1", "-d", "0.1"]
    with log.open("w") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)


def test_two_workers_started_separately_share_one_jobs_chunks(demo_app, queue_url, tmp_path):
    url, name = queue_url
    exports = tmp_path / "exports"
    demo_app.config.update(EXPORT_DIR=str(exports), EXPORT_CHUNK_SIZE=1)
    env = dict(
        os.environ,
        DATABASE_URL=demo_app.config["SQLALCHEMY_DATABASE_URI"],
        TASK_QUEUE_URL=url,
        TASK_QUEUE_NAME=name,
        EXPORT_DIR=str(exports),
        SECRET_KEY=demo_app.config["SECRET_KEY"],
    )
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    workers = [_start_worker(env, log) for log in logs]
    try:
        # Both polling before the job arrives, so neither has a head start on the chunks.
        wait_until(lambda: all("Huey consumer started" in log.read_text() for log in logs), 90, "both workers")
        time.sleep(1)
        client = demo_app.test_client()
        login_as(client, "xiashan_admin")
        cases = db.session.scalars(
            select(Case)
            .join(Case.center)
            .where(Center.name == "峡山街道便民服务中心", Case.mode == "delegated")
            .order_by(Case.id)
            .limit(12)
        ).all()
        response = client.post(
            "/admin/case/batch-export/",
            data={"ids": ",".join(str(c.id) for c in cases), "annexes": ["1", "2", "3"], "file_format": "zip"},
        )
        assert response.status_code == 302
        job = db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()
        wait_until(lambda: db.session.get(ExportJob, job.id).status == "done", 180, "the job to finish")
        takers = db.session.scalars(select(ExportChunk.worker).where(ExportChunk.job_id == job.id)).all()
        assert len(takers) == 12 and None not in takers
        # Each chunk names a worker process of one of the two consumers (its process group).
        groups = {name: os.getpgid(int(name.rpartition(":")[2])) for name in set(takers)}
        assert set(groups.values()) == {worker.pid for worker in workers}, takers
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    job = db.session.get(ExportJob, job.id)
    assert export.counts(job.id)["done"] == 12
    names = zipfile.ZipFile(exports / job.file_path).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == 36
