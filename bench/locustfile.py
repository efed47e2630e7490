"""The county's working day as locust users (`bench/load_bench.py` runs it): mostly members checking their hours
and to-do list, secretaries reading their branch and now and then recording its organizational life, a few
committee users on their dashboards; each waits a few seconds between pages, as a person reads.

The accounts come from the users file (LOAD_USERS_FILE, default var/bench/load_users.json) that load_bench.py
writes: {"password": …, "member": [{"username": …}], "secretary": [{"username": …, "branch": CODE}],
"committee": [{"username": …}]}. Each simulated user takes the next account of its kind, round robin.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
from pathlib import Path

from locust import HttpUser, between, task

ROOT = Path(__file__).resolve().parent.parent
USERS = json.loads(Path(os.environ.get("LOAD_USERS_FILE", ROOT / "var" / "bench" / "load_users.json")).read_text())
_next = {kind: itertools.cycle(USERS[kind]) for kind in ("member", "secretary", "committee")}
_PRESENT = re.compile(r'name="present_(\d+)"')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _Person(HttpUser):
    abstract = True
    kind = ""
    # Think time: a person reads a page before the next click.
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.account = next(_next[self.kind])
        page = self.client.get("/login/", name="login form")
        token = _CSRF.search(page.text)
        with self.client.post(
            "/login/",
            data={
                "username": self.account["username"],
                "password": USERS["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"{self.host}/login/"},
            name="login",
            catch_response=True,
        ) as response:
            # A good login redirects to the workbench; a bad one shows the form again (200, no session).
            if "sessionid" not in self.client.cookies:
                response.failure(f"login refused for {self.account['username']}")

    def _get(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}")


class Member(_Person):
    weight = 14
    kind = "member"

    @task(3)
    def hours(self) -> None:
        self._get("/training/my/hours/", "member: my hours")

    @task(3)
    def todo(self) -> None:
        self._get("/todo/", "member: to-do")

    @task(2)
    def home(self) -> None:
        self._get("/", "member: home")


class Secretary(_Person):
    weight = 5
    kind = "secretary"

    @task(2)
    def home(self) -> None:
        self._get("/", "secretary: home")

    @task(3)
    def members(self) -> None:
        self._get(f"/members/?org={self.account['branch']}", "secretary: branch members")

    @task(3)
    def records(self) -> None:
        self._get(f"/orglife/?org={self.account['branch']}", "secretary: orglife records")

    @task(1)
    def record(self) -> None:
        """Record a theme day with everyone present, as the quick form does (it changes the committee's figures)."""
        branch = self.account["branch"]
        form = self.client.get(f"/orglife/records/new/?org={branch}", name="secretary: record form")
        token = _CSRF.search(form.text)
        data: dict[str, object] = {
            "csrfmiddlewaretoken": token.group(1) if token else "",
            "org": branch,
            "kinds": "theme_day",
            "date": dt.date.today().isoformat(),
            "topic": "主题党日（负载测试）",
        }
        data.update({f"present_{pk}": "on" for pk in _PRESENT.findall(form.text)})
        with self.client.post(
            f"/orglife/records/new/?org={branch}",
            data=data,
            headers={"Referer": f"{self.host}/orglife/records/new/?org={branch}"},
            name="secretary: record (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            # Saved: a redirect to the record. A 200 is the form again with its errors.
            if response.status_code != 302:
                response.failure(f"record not saved: {response.status_code}")


class Committee(_Person):
    weight = 1
    kind = "committee"

    @task(2)
    def home(self) -> None:
        self._get("/", "committee: home")

    @task(2)
    def compliance(self) -> None:
        self._get("/orglife/compliance/", "committee: orglife compliance")

    @task(2)
    def hours(self) -> None:
        self._get("/training/hours/", "committee: hours dashboard")
