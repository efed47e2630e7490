"""What the browser tests share: logging in (through the form, or with a session cookie), a small PNG, and the
phone layout check."""

from __future__ import annotations

import struct
import zlib

from django.conf import settings
from django.test import Client

from dangjian.accounts.tests.factories import TEST_PASSWORD


def login_with_form(page, user, password: str = TEST_PASSWORD) -> None:
    """Log in as a person does: the login page, 用户名, 密码, 登录."""
    page.goto("/login/")
    fill_login_form(page, user, password)


def fill_login_form(page, user, password: str = TEST_PASSWORD) -> None:
    """On the login page (where a page that needs a login sent the browser): 用户名, 密码, 登录."""
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def login_with_cookie(page, user) -> None:
    """Log in without the form: the session cookie of a test client's `force_login`, set in the page's context."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": page.base_url}])


def png_bytes(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 16, 46)) -> bytes:
    """A small valid PNG (solid colour), for a photo upload."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------------------------------------
# The phone layout check

_LAYOUT_JS = """
() => {
  const problems = [];
  const doc = document.documentElement;
  // The layout viewport: on a phone window.innerWidth grows with content that overflows (the page zooms out).
  const width = doc.clientWidth;
  if (doc.scrollWidth > width + 1) {
    // Name the widest elements that stick out, outside any horizontal scroller.
    const culprits = [];
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= width + 1) continue;
      if (el.closest(".table-responsive, .overflow-auto, pre")) continue;
      culprits.push({el, r});
    }
    const outer = culprits.filter(c => !culprits.some(o => o.el !== c.el && o.el.contains(c.el)));
    problems.push({
      kind: "page wider than the screen",
      detail: `scrollWidth ${doc.scrollWidth} > ${width} px`,
      elements: outer.slice(0, 3).map(c => describe(c.el) + ` right=${Math.round(c.r.right)}`),
    });
  }
  const selector = "td, th, a, .btn, label, h1, h2, h3, h4, h5";
  for (const el of document.querySelectorAll(selector)) {
    if (!el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const text = (el.innerText || "").replace(/\\s+/g, "");
    if (text.length <= 2) continue;
    const rect = el.getBoundingClientRect();
    const em = parseFloat(style.fontSize) || 16;
    const line = parseFloat(style.lineHeight) || em * 1.5;
    // Squeezed: narrower than two characters while its text runs over more than three lines.
    if (rect.width < 2 * em && rect.height > 3 * line) {
      problems.push({
        kind: "text squeezed to a character per line",
        detail: `${Math.round(rect.width)}×${Math.round(rect.height)}px, font ${em}px`,
        elements: [describe(el)],
      });
    }
  }
  return problems;

  function describe(el) {
    let path = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
    if (el.className && typeof el.className === "string") path += "." + el.className.trim().split(/\\s+/).join(".");
    const holder = el.parentElement && el.parentElement.closest("[id]");
    if (holder && holder !== el) path = "#" + holder.id + " … " + path;
    const text = (el.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 30);
    return `${path} “${text}”`;
  }
}
"""


def layout_problems(page) -> list[dict]:
    """What is wrong with the page's layout at its size: the page scrolls sideways (something wider than the screen
    outside a .table-responsive: the document's scrollWidth over its clientWidth, the layout viewport, as on a phone
    window.innerWidth grows with what overflows), or a text cell, link, button, label or heading is squeezed to a
    character or two per line (narrower than 2em and taller than three lines)."""
    return page.evaluate(_LAYOUT_JS)


def describe_problems(problems: list[dict]) -> str:
    return "\n".join(f"{p['kind']} ({p['detail']}): {'; '.join(p['elements'])}" for p in problems)


def nav_to(page, name: str) -> None:
    """Follow a link of the top navigation bar; on a phone the bar is folded behind its toggler first."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    page.locator(".navbar").get_by_role("link", name=name, exact=True).click()
