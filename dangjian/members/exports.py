"""The member roster as an .xlsx file (党员名册导出), in the import template's columns.

An export by a role that sees ID numbers in full re-imports unchanged (`import_members --update` changes
nothing): the same columns in the same order, dates as real Excel dates, labels as the import reads them, each
current post with its organization's code (党内职务 and 党内职务所在组织编码, paired in order, each (organization,
post) once), and the 班子成员 and 区管干部 flags as 是/否. Otherwise ID numbers, phones and birth dates (the year
only) are masked, by the same rule as the member page's full-ID reveal (`selectors.may_see_full_id`).

Formula injection (CSV/Excel injection, OWASP): a text cell whose value starts with = + - @ (or a tab or a
carriage return) is written as a string cell with Excel's quote prefix, which is exactly how Excel itself
stores text typed as '=…: Excel shows it as text, never evaluates it (not even after editing the cell),
and the value read back is unchanged, so the round trip stays exact. Every text cell goes through the one guard
in `core.exports`: none reaches the sheet as a formula.

Memory: openpyxl's write-only mode streams rows to a temporary file; the rows are read from the database
in chunks, with the current posts prefetched per chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from openpyxl import Workbook

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.core.exports import XLSX_CONTENT_TYPE, add_sheet  # noqa: F401 (the name pages import)
from dangjian.core.validators import mask_id_number, mask_phone, masked_birth_date
from dangjian.members.imports.columns import COLUMN_WIDTHS, TEMPLATE_COLUMNS
from dangjian.members.models import Member, PartyPost
from dangjian.members.selectors import full_id_roots, may_see_full_id_of

# The import template's columns and widths: an export re-imports unchanged.
MEMBER_COLUMNS: tuple[str, ...] = TEMPLATE_COLUMNS
DATE_FORMAT = "yyyy-mm-dd"
POST_SEPARATOR = "、"
CHUNK_SIZE = 2000


@dataclass(frozen=True)
class ExportResult:
    rows: int
    masked: bool  # whether any row's ID number and phone were masked


def _current_posts() -> Prefetch:
    today = timezone.localdate()
    posts = (
        PartyPost.objects.filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("organization")
        .only("member_id", "post", "start_date", "end_date", "organization__code")
        .order_by("start_date", "pk")
    )
    return Prefetch("posts", queryset=posts, to_attr="current_posts")


def _posts(member: Member) -> tuple[str, str]:
    """党内职务 and 党内职务所在组织编码: the current posts' labels and, in the same order, their organizations'
    codes; each (organization, post) once."""
    held = dict.fromkeys((post.organization.code, post.get_post_display()) for post in member.current_posts)
    return POST_SEPARATOR.join(label for _, label in held), POST_SEPARATOR.join(code for code, _ in held)


def _flag(value: bool) -> str:
    return "是" if value else "否"


def _row(member: Member, *, full: bool) -> list:
    """A member's cells, typed for `core.exports.xlsx_value`: text guarded, dates as dates."""
    id_number = member.id_number if full else mask_id_number(member.id_number)
    phone = member.phone if full else mask_phone(member.phone)
    # The birth date is masked with the number: together they would give the number back.
    birth = member.birth_date if full else masked_birth_date(member.birth_date)
    posts, post_orgs = _posts(member)
    return [
        member.name,
        member.get_gender_display(),
        member.ethnicity,
        birth,
        id_number,
        member.get_education_display() if member.education else "",
        phone,
        member.join_date,
        member.full_date,
        member.get_category_display(),
        member.organization.code,
        member.unit.name if member.unit_id else "",
        posts,
        post_orgs,
        _flag(member.is_leadership),
        _flag(member.is_district_cadre),
    ]


def write_members_xlsx(queryset: QuerySet[Member], out: BinaryIO | str, *, user) -> ExportResult:
    """Write the members of `queryset` (already scoped and filtered) to `out`, in the queryset's order.
    ID numbers and phones are in full only for the members the user may see them of."""
    access = access_for(user)
    roots = full_id_roots(access)
    masked = False

    def lines():
        nonlocal masked
        members = queryset.select_related("organization", "unit").prefetch_related(_current_posts())
        for member in members.iterator(chunk_size=CHUNK_SIZE):
            full = may_see_full_id_of(access, roots, member)
            masked = masked or not full
            yield _row(member, full=full)

    wb = Workbook(write_only=True)
    rows = add_sheet(wb, "党员名册", MEMBER_COLUMNS, lines(), widths=COLUMN_WIDTHS)
    wb.save(out)
    return ExportResult(rows=rows, masked=masked)


# A run of digits long enough to be an ID number, or (part of) a phone number, as typed into the search.
_NUMBER_LIKE = re.compile(r"(?P<id>\d{15,17}[\dXx]?)|(?P<phone>\d{5,14})")


def _mask_number(match: re.Match) -> str:
    if match.group("id"):
        return mask_id_number(match.group("id").upper())
    return mask_phone(match.group("phone"))


def audit_filter(params) -> dict[str, str]:
    """The export's filter, for the audit trail: the filter fields given, with any ID or phone number in the
    search masked (the trail never holds an ID number)."""
    kept = {}
    for name in ("q", "org", "sub", "category", "status"):
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if name == "q":
            value = _NUMBER_LIKE.sub(_mask_number, value)
        kept[name] = value[:100]
    return kept


def members_export(
    *, by, queryset: QuerySet[Member], out: BinaryIO | str, filters: dict, actor=None, via: str = "page"
) -> ExportResult:
    """Export `queryset` for `by` (a user or an Access) and record the export in the audit trail: the filter,
    the number of rows and whether they were masked. `actor` names the user for the trail when `by` is an
    Access (a command run); in a request the trail reads the request's user."""
    result = write_members_xlsx(queryset, out, user=by)
    audit_record(
        action=AuditAction.EXPORT,
        actor=actor if actor is not None else (None if hasattr(by, "view_roots") else by),
        object_type=Member._meta.label_lower,
        object_repr="党员名册",
        detail={"filter": filters, "rows": result.rows, "masked": result.masked, "via": via},
    )
    return result
