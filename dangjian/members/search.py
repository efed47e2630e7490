"""Searching the roster by a whole ID number or phone number without the number ever entering a URL (F3, F6).

The list page's search box is sent by POST to `members:search`. A name goes back to the list as `?q=name` (a
plain GET, bookmarkable, paginated as before). An ID number or a phone number never does: the search view keeps
its keyed hash (the blind index, never the number) in the user's own session under a short random token, and
redirects to `?qt=<token>`. The list, its pagination and the export resolve the token from the session; in
another session, or after SEARCH_TOKEN_TTL, it resolves to nothing. Each such search is audited (SEARCH, the
number masked). A number typed into `?q=` by hand is refused, not searched.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from dangjian.core.validators import mask_id_number, mask_phone
from dangjian.members.models import id_number_digest, phone_digest

SESSION_KEY = "members.number_searches"
SEARCH_TOKEN_TTL = 3600  # seconds a search token stays valid in its session
MAX_TOKENS = 20  # kept per session, the newest
ID_NUMBER, PHONE, NAME = "id_number", "phone", "name"
KIND_LABELS = {ID_NUMBER: "公民身份号码", PHONE: "手机号码"}
_SEPARATORS = re.compile(r"[\s\-]")
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{8,32}$")


@dataclass(frozen=True)
class NumberSearch:
    """A search by a whole number, as the session keeps it: what kind, the keyed hash, the masked number."""

    kind: str
    digest: str
    masked: str

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def classify(text: str) -> tuple[str, str]:
    """(kind, value) of what was typed in the search box: an ID number (18 characters, the last a digit or X),
    any other run of digits (taken as a whole phone number; spaces and dashes ignored), or a name."""
    compact = _SEPARATORS.sub("", text or "").upper()
    if len(compact) == 18 and compact[:17].isdigit() and (compact[17].isdigit() or compact[17] == "X"):
        return ID_NUMBER, compact
    if compact.isdigit():
        return PHONE, compact
    return NAME, (text or "").strip()


def number_search(kind: str, value: str) -> NumberSearch:
    if kind == ID_NUMBER:
        return NumberSearch(kind, id_number_digest(value), mask_id_number(value))
    return NumberSearch(kind, phone_digest(value), mask_phone(value))


def _live(session) -> dict:
    now = time.time()
    stored = session.get(SESSION_KEY) or {}
    return {token: entry for token, entry in stored.items() if isinstance(entry, list) and entry[3] > now}


def search_token_issue(session, search: NumberSearch) -> str:
    """Keep `search` in `session` under a new token, and return the token."""
    tokens = _live(session)
    token = secrets.token_urlsafe(12)
    tokens[token] = [search.kind, search.digest, search.masked, time.time() + SEARCH_TOKEN_TTL]
    if len(tokens) > MAX_TOKENS:
        tokens = dict(sorted(tokens.items(), key=lambda item: item[1][3])[-MAX_TOKENS:])
    session[SESSION_KEY] = tokens
    return token


def search_token_resolve(session, token: str) -> NumberSearch | None:
    """The search kept under `token` in `session`, if it is there and still valid."""
    if session is None or not token or not _TOKEN.match(token):
        return None
    entry = _live(session).get(token)
    if entry is None or entry[0] not in KIND_LABELS:
        return None
    return NumberSearch(kind=entry[0], digest=entry[1], masked=entry[2])
