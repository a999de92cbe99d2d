"""The clerks bench/load.py simulates with locust: log in, then browse, search and open cases.

Each simulated user logs in as one of the three roles in turn (district admin, town admin,
village clerk) through the real login form and its CSRF token, then repeatedly opens the case
list, pages and searches it, opens a case's details and the home page, pausing between clicks.
"""

from __future__ import annotations

import itertools
import os
import random
import re

from locust import HttpUser, between, task

USERNAMES = os.environ.get("BENCH_LOAD_USERS", "qu_admin,xiashan_admin,xiashan_dongshan").split(",")
PASSWORD = os.environ.get("BENCH_LOAD_PASSWORD", "Chaonan#2024")
THINK = float(os.environ.get("BENCH_LOAD_THINK", "1.0"))
# Three-character names in the seed's style (seed/data/people.py): common Chaoshan surnames and
# given names, so a name search reads like a clerk's.
SURNAMES = "陈林郑黄李张蔡许吴马"
GIVEN = "少鹏 泽鑫 锦辉 丽纯 晓燕 佳琪 秀英 木松 炳南 俊杰".split()

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_DETAILS = re.compile(r"/admin/case/details/\?id=(\d+)")
_NUMBER = re.compile(r"CN-[A-Z]-\d{8}-\d{4}")
_turn = itertools.count()


class Clerk(HttpUser):
    wait_time = between(THINK * 0.5, THINK * 1.5)

    def on_start(self) -> None:
        self.username = USERNAMES[next(_turn) % len(USERNAMES)]
        page = self.client.get("/login", name="login form").text
        token = _CSRF.search(page).group(1)
        with self.client.post(
            "/login",
            data={"username": self.username, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login as {self.username}: HTTP {response.status_code}")
        self.case_ids: list[str] = []
        self.numbers: list[str] = []
        self.case_list()

    def _get(self, url: str, name: str) -> str:
        # A page that lands on the login form (session lost) is an error, though it answers 200.
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code == 200 and 'name="password"' in response.text:
                response.failure("redirected to the login form")
            return response.text if response.status_code == 200 else ""

    @task(4)
    def case_list(self) -> None:
        page = self._get("/admin/case/", "case list")
        self.case_ids = _DETAILS.findall(page) or self.case_ids
        self.numbers = _NUMBER.findall(page) or self.numbers

    @task(2)
    def case_list_page(self) -> None:
        self._get(f"/admin/case/?page={random.randint(1, 20)}", "case list, page 2-21")

    @task(2)
    def search_number(self) -> None:
        if self.numbers:
            number = random.choice(self.numbers)
            self._get(f"/admin/case/?search={number}", "case search, number")

    @task(1)
    def search_name(self) -> None:
        name = random.choice(SURNAMES) + random.choice(GIVEN)
        self._get(f"/admin/case/?search={name}", "case search, name")

    @task(3)
    def details(self) -> None:
        if self.case_ids:
            self._get(f"/admin/case/details/?id={random.choice(self.case_ids)}", "case details")

    @task(1)
    def home(self) -> None:
        self._get("/admin/", "home page")
