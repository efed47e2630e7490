"""Hardening: the deploy check under production settings, CSP without inline code, security headers, error pages
without stack traces, the admin address allowlist, upload checks before parsing, defusedxml."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import Client
from django.test.utils import override_settings
from django.urls import path

from dangjian import urls as project_urls
from dangjian.accounts.roles import Role
from dangjian.core.uploads import UploadLimits, check_xlsx_upload

BASE_DIR = Path(settings.BASE_DIR)

# ---------------------------------------------------------------------------------------------------------
# Production settings, in a subprocess (settings are read once per process).


def production_env(**overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DANGJIAN_"))}
    env.update(
        DANGJIAN_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64)[:60],
        DJANGO_ALLOWED_HOSTS="x.example",
        DANGJIAN_FIELD_KEYS="k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        DANGJIAN_INDEX_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_deploy_check_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_check_fails_on_a_weakened_setting():
    """The check above would catch a weakened setting: HSTS turned off fails it. (A weak secret key no longer gets
    that far: the settings refuse it, see test_secret_key.py.)"""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(DJANGO_SECURE_HSTS_SECONDS="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_production_settings_turn_every_control_on():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'otp': s.DANGJIAN_OTP_ENFORCE, 'demo': s.DANGJIAN_ALLOW_DEMO, "
        "'hsts': s.SECURE_HSTS_SECONDS, 'ssl': s.SECURE_SSL_REDIRECT, 'cookie': s.SESSION_COOKIE_SECURE, "
        "'csrf': s.CSRF_COOKIE_SECURE}))"
    )
    env = production_env(DJANGO_SETTINGS_MODULE="dangjian.settings")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "debug": False,
        "otp": True,
        "demo": False,
        "hsts": 365 * 24 * 3600,
        "ssl": True,
        "cookie": True,
        "csrf": True,
    }


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


# ---------------------------------------------------------------------------------------------------------
# Content-Security-Policy and inline code.


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def test_the_csp_header_allows_no_inline_script_or_style(world):
    response = Client().get("/login/")
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


class InlineCodeFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline <script>, <style>, style= and on…=
    attributes, javascript: URLs, and htmx's hx-on (evaluated code)."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name == "style" or name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    return finder.found


def test_the_main_pages_have_no_inline_code(world):
    member = world.self_member
    client = world.client(Role.COMMITTEE)
    pages = {
        "/": client,
        "/orgs/": client,
        f"/orgs/{world.orgs['A'].pk}/": client,
        "/orgs/units/": client,
        "/members/": client,
        f"/members/{member.pk}/": client,
        f"/members/{member.pk}/edit/": client,
        "/members/new/": client,
        "/account/password/": client,
        "/logout/": client,
        "/login/": Client(),
        "/audit/": world.client(Role.AUDIT_ADMIN),
    }
    found = {url: inline_code(c.get(url)) for url, c in pages.items()}
    assert {url: codes for url, codes in found.items() if codes} == {}


def test_the_otp_setup_page_has_no_inline_code(world):
    assert inline_code(world.client(Role.COMMITTEE).get("/account/otp/setup/")) == []


def test_the_csp_header_is_on_every_page(world):
    client = world.client(Role.COMMITTEE)
    for url in ("/", "/members/", "/orgs/", "/nope/"):
        assert "Content-Security-Policy" in client.get(url), url


# ---------------------------------------------------------------------------------------------------------
# Security headers.


@pytest.mark.parametrize("url", ["/login/", "/"])
def test_the_security_headers_are_sent(world, url):
    response = world.client(Role.COMMITTEE).get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_session_and_csrf_cookies_are_http_only(world):
    client = Client()
    user = world.user(Role.SECRETARY)
    from dangjian.accounts.tests.factories import TEST_PASSWORD

    client.get("/login/")
    client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


# ---------------------------------------------------------------------------------------------------------
# Error pages without stack traces.


SECRET_DETAIL = "数据库口令 hunter2 在这里"


def boom(request):
    raise RuntimeError(SECRET_DETAIL)


urlpatterns = [path("boom/", boom), *project_urls.urlpatterns]


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_a_production_error_shows_the_chinese_page_without_a_traceback(world):
    for client in (Client(), world.client(Role.COMMITTEE)):
        client.raise_request_exception = False
        response = client.get("/boom/")
        assert response.status_code == 500
        text = response.content.decode()
        assert "系统暂时出错" in text
        for leak in ("Traceback", "RuntimeError", SECRET_DETAIL, "hunter2", "boom(", settings.SECRET_KEY):
            assert leak not in text


@override_settings(DEBUG=False)
def test_a_production_404_is_the_chinese_page(world):
    response = world.client(Role.COMMITTEE).get("/no/such/page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "页面不存在" in text
    assert "URLconf" not in text and "dangjian.urls" not in text


# ---------------------------------------------------------------------------------------------------------
# The admin address allowlist. The middleware reads its setting when the handler is built, so each test
# makes its clients inside the override.


@override_settings(DANGJIAN_ADMIN_ALLOWED_NETWORKS=["10.0.0.0/8"])
def test_the_admin_is_hidden_outside_the_allowed_networks(world):
    outside = world.client(Role.SYSTEM_ADMIN)  # REMOTE_ADDR 127.0.0.1
    assert outside.get("/admin/").status_code == 404
    assert outside.get("/admin/accounts/user/").status_code == 404
    assert Client().get("/admin/login/").status_code == 404
    # The rest of the site answers as usual.
    assert outside.get("/orgs/").status_code == 200


@override_settings(DANGJIAN_ADMIN_ALLOWED_NETWORKS=["10.0.0.0/8"])
def test_the_admin_answers_inside_the_allowed_networks(world):
    inside = Client(REMOTE_ADDR="10.1.2.3")
    inside.force_login(world.user(Role.SYSTEM_ADMIN))
    assert inside.get("/admin/").status_code == 200
    anonymous = Client(REMOTE_ADDR="10.1.2.3").get("/admin/")
    assert anonymous.status_code == 302


@override_settings(DANGJIAN_ADMIN_ALLOWED_NETWORKS=["10.0.0.0/8"])
def test_a_forged_forwarded_for_does_not_open_the_admin(world):
    client = Client(HTTP_X_FORWARDED_FOR="10.1.2.3")
    client.force_login(world.user(Role.SYSTEM_ADMIN))
    assert client.get("/admin/").status_code == 404


def test_without_an_allowlist_the_admin_answers_from_anywhere(world):
    assert settings.DANGJIAN_ADMIN_ALLOWED_NETWORKS == []
    assert world.client(Role.SYSTEM_ADMIN).get("/admin/").status_code == 200


# ---------------------------------------------------------------------------------------------------------
# Uploads.

SMALL = UploadLimits(max_bytes=64 * 1024, max_entries=50, max_unpacked_bytes=256 * 1024, max_ratio=100)


def real_xlsx() -> io.BytesIO:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "公民身份号码"])
    sheet.append(["赵甲一", "110105197905041036"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def zip_of(entries: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


XLSX_SKELETON = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def refusal(fileobj, name: str, limits: UploadLimits | None = SMALL) -> str:
    with pytest.raises(ValidationError) as caught:
        check_xlsx_upload(fileobj, name=name, limits=limits)
    assert fileobj.tell() == 0
    return caught.value.code


def test_a_real_small_xlsx_is_accepted():
    upload = real_xlsx()
    check_xlsx_upload(upload, name="党员名册.xlsx", limits=SMALL)
    check_xlsx_upload(upload, name="党员名册.XLSX")  # the settings' limits
    assert upload.tell() == 0
    assert openpyxl.load_workbook(upload).active["A2"].value == "赵甲一"


@pytest.mark.parametrize("name", ["名册.xls", "名册.csv", "名册.xlsx.exe", "名册", "名册.xlsm", ""])
def test_another_extension_is_refused(name):
    assert refusal(real_xlsx(), name) == "extension"


def test_a_too_large_file_is_refused():
    limits = UploadLimits(max_bytes=1024, max_entries=50, max_unpacked_bytes=10**9, max_ratio=1000)
    assert refusal(real_xlsx(), "名册.xlsx", limits) == "too_large"


def test_a_file_that_is_not_a_zip_is_refused():
    assert refusal(io.BytesIO(b"\xd0\xcf\x11\xe0 not a zip at all" * 10), "名册.xlsx") == "not_xlsx"


def test_a_zip_without_a_workbook_is_refused():
    assert refusal(zip_of({"readme.txt": b"hello"}), "名册.xlsx") == "not_xlsx"


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    bomb = zip_of({**XLSX_SKELETON, "xl/worksheets/sheet1.xml": b"\0" * (1024 * 1024)})
    assert len(bomb.getvalue()) < 20 * 1024
    limits = UploadLimits(max_bytes=10**6, max_entries=50, max_unpacked_bytes=10**9, max_ratio=100)
    assert refusal(bomb, "名册.xlsx", limits) == "zip_bomb"
    assert refusal(bomb, "名册.xlsx", None) == "zip_bomb"  # and with the settings' limits


def test_a_zip_bomb_is_refused_by_its_unpacked_size():
    entries = {**XLSX_SKELETON, "xl/worksheets/sheet1.xml": secrets.token_bytes(300 * 1024)}  # incompressible
    limits = UploadLimits(max_bytes=10**6, max_entries=50, max_unpacked_bytes=256 * 1024, max_ratio=1000)
    assert refusal(zip_of(entries), "名册.xlsx", limits) == "zip_bomb"


def test_too_many_entries_are_refused():
    entries = {**XLSX_SKELETON, **{f"xl/media/{n}.bin": b"x" for n in range(60)}}
    assert refusal(zip_of(entries), "名册.xlsx") == "too_many_entries"


def test_the_refusals_speak_chinese():
    with pytest.raises(ValidationError) as caught:
        check_xlsx_upload(real_xlsx(), name="名册.csv", limits=SMALL)
    assert caught.value.messages == ["只接受 .xlsx 格式的 Excel 文件。"]


# ---------------------------------------------------------------------------------------------------------
# defusedxml.


def test_openpyxl_runs_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True


def test_the_app_refuses_to_start_without_defusedxml():
    with mock.patch("openpyxl.xml.DEFUSEDXML", False), pytest.raises(ImproperlyConfigured, match="defusedxml"):
        apps.get_app_config("core").ready()
