"""The product's own error pages (Chinese, in the product's layout) answer 400, 403, 404 and 500 with debug off, as
`make run` serves (DJANGO_DEBUG=0, static files through runserver --insecure)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.test.utils import override_settings

from dangjian.accounts.roles import Role

pytestmark = [
    pytest.mark.usefixtures("world"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]
ERROR_URLS = override_settings(ROOT_URLCONF="dangjian.audit.tests.error_urls", DEBUG=False)
MAKEFILE = Path(__file__).resolve().parents[3] / "Makefile"


def page(response) -> str:
    return response.content.decode()


@ERROR_URLS
@pytest.mark.parametrize(
    "url, status, title",
    [
        ("/test-errors/400/", 400, "请求无效"),
        ("/test-errors/403/", 403, "无权访问"),
        ("/test-errors/404/", 404, "页面不存在"),
        ("/no-such-page/", 404, "页面不存在"),
    ],
)
def test_the_error_pages_are_the_products_own(world, url, status, title):
    response = world.client(Role.SECRETARY).get(url)
    assert response.status_code == status
    html = page(response)
    assert f'<h1 class="h3">{title}</h1>' in html
    assert "navbar-dj" in html and "css/dangjian.css" in html  # the product's layout (base.html)
    assert "Traceback" not in html and "Django" not in html


@ERROR_URLS
def test_a_server_error_shows_the_standalone_chinese_page(world):
    client = world.client(Role.SECRETARY)
    client.raise_request_exception = False
    response = client.get("/test-errors/500/")
    assert response.status_code == 500
    html = page(response)
    assert "系统暂时出错" in html and "返回工作台" in html
    assert "css/dangjian.css" in html
    assert "RuntimeError" not in html and "a bug" not in html


@ERROR_URLS
def test_a_server_error_page_needs_no_login_or_context():
    client = Client(raise_request_exception=False)
    response = client.get("/test-errors/500/")
    assert response.status_code == 500
    assert "系统暂时出错" in page(response)


def test_make_run_serves_with_debug_off_and_static_files():
    text = MAKEFILE.read_text()
    run = re.search(r"^run:.*?(?=^\S)", text, re.S | re.M).group(0)
    assert "RUN_DEBUG ?= 0" in text
    assert "DJANGO_DEBUG=$(RUN_DEBUG)" in run and "runserver --insecure $(HOST)" in run
    assert "demo_logins --address $(HOST)" in run
