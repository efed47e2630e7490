"""The payroll office's deduction list (工资代扣党费名单; docs/dues.md, "Payments"): a spreadsheet read as people keep
it (`core.sheets`: title rows, header synonyms, .xlsx/.xls/.csv), each row a member (by ID number, or name and
organization, inside the uploader's dues scope) and the amount deducted for a month. Checked first (a preview with
every row's problem); written in one transaction, all rows or none: one payment by payroll deduction per member for
the month, what was deducted above the month's due recorded as volunteered extra."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.core.services import service
from dangjian.core.sheets import (
    IdNumberMangled,
    SheetError,
    clean_name,
    clean_text,
    load_columns,
    locate_header,
    open_upload,
    read_id_number,
)
from dangjian.core.validators import parse_id_number
from dangjian.dues.models import Way
from dangjian.dues.rules import month_label, month_of
from dangjian.dues.selectors.ledger import live_entries, schedules
from dangjian.dues.selectors.sheet import can_collect, dues_organizations
from dangjian.dues.services.common import money
from dangjian.dues.services.payments import payment_record
from dangjian.members.models import Member, Status, id_number_digest
from dangjian.members.selectors import MemberReference, members_named

COLUMNS = Path(__file__).resolve().parent.parent / "data" / "deduction_columns.toml"
ZERO = Decimal("0.00")


@dataclass
class DeductionRow:
    number: int
    name: str = ""
    member_id: int | None = None
    amount: Decimal | None = None
    due: Decimal | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def extra(self) -> Decimal:
        if self.amount is None or self.due is None:
            return ZERO
        return max(self.amount - self.due, ZERO)


@dataclass
class DeductionCheck:
    month: dt.date
    rows: list[DeductionRow]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(not r.errors for r in self.rows) and bool(self.rows)

    @property
    def total(self) -> Decimal:
        return sum((r.amount or ZERO for r in self.rows), ZERO)


def _reference(row: DeductionRow, cells: dict) -> MemberReference:
    digest = ""
    raw = cells.get("公民身份号码")
    try:
        number = read_id_number(raw) if raw not in (None, "") else ""
    except IdNumberMangled:
        row.errors.append(("公民身份号码", "身份证号被Excel当作数字保存，已丢失末尾数字，请将该列设为文本后重新填写。"))
        number = ""
    if number:
        try:
            parse_id_number(number)
            digest = id_number_digest(number)
        except ValidationError as exc:
            row.errors.append(("公民身份号码", exc.messages[0]))
    name = clean_name(cells.get("姓名"))
    row.name = name
    if not digest and not name and not row.errors:
        row.errors.append(("姓名", "请填写公民身份号码，或姓名和党组织。"))
    return MemberReference(digest=digest, name=name, organization=clean_text(cells.get("党组织")))


def deductions_check(*, by, fileobj: BinaryIO, name: str, month, today: dt.date | None = None) -> DeductionCheck:
    """Read and check a deduction list for `month`; writes nothing."""
    today = today or timezone.localdate()
    month = month_of(month)
    columns = load_columns(COLUMNS)
    try:
        sheet = locate_header(open_upload(fileobj, name=name, columns=columns), columns)
    except SheetError as exc:
        return DeductionCheck(month=month, rows=[], problems=[str(exc)])
    index = {columns.match(cell): i for i, cell in enumerate(sheet.raw_header) if columns.match(cell)}
    if "金额" not in index or not ({"公民身份号码", "姓名"} & set(index)):
        return DeductionCheck(
            month=month, rows=[], problems=["找不到“金额”列，以及“公民身份号码”或“姓名”列，请核对表头。"]
        )
    rows: list[DeductionRow] = []
    references: dict[int, MemberReference] = {}
    for number, cells in sheet.numbered():
        values = {col: cells[i] if i < len(cells) else None for col, i in index.items()}
        if all(v in (None, "") for v in values.values()):
            continue
        row = DeductionRow(number=number)
        references[number] = _reference(row, values)
        try:
            row.amount = money(values.get("金额"), field="金额", label="金额", allow_zero=False)
        except ValidationError as exc:
            row.errors.append(("金额", exc.messages[0]))
        rows.append(row)
    within = Member.objects.editable_by(by).filter(status=Status.ACTIVE)
    found, missing = members_named(
        {n: r for n, r in references.items() if r.digest or r.name},
        within=within,
        organizations=dues_organizations(by),
    )
    ids = [m.pk for m in found.values()]
    due = schedules(ids, month, month)
    paid = live_entries(ids, month, month)
    orgs = {
        m.pk: m.organization for m in Member.objects.editable_by(by).filter(pk__in=ids).select_related("organization")
    }
    seen: dict[int, int] = {}
    for row in rows:
        if row.number in missing:
            row.errors.append(missing[row.number])
            continue
        member = found.get(row.number)
        if member is None:
            continue
        row.member_id, row.name = member.pk, member.name
        if member.pk in seen:
            row.errors.append(("姓名", f"与第{seen[member.pk]}行是同一名党员。"))
            continue
        seen[member.pk] = row.number
        if not can_collect(by, orgs[member.pk]):
            row.errors.append(("姓名", "找不到该党员，或其不在您的管理范围内。"))
            continue
        month_due = due[member.pk][month]
        if (member.pk, month) in paid:
            row.errors.append(("姓名", f"{month_label(month)}的党费已缴纳。"))
        elif month_due.amount is None:
            row.errors.append(("姓名", f"尚未核定{month_label(month)}的党费基数。"))
        elif month_due.exempt:
            row.errors.append(("姓名", f"{month_label(month)}已批准免交。"))
        else:
            row.due = month_due.amount
            if row.amount is not None and row.amount < row.due:
                row.errors.append(("金额", f"扣缴{row.amount}元少于应交{row.due}元。"))
    if not rows:
        return DeductionCheck(month=month, rows=[], problems=["名单中没有数据行。"])
    return DeductionCheck(month=month, rows=rows)


@service
def deductions_import(
    *, by, fileobj: BinaryIO, name: str, month, paid_on: dt.date | None = None, today: dt.date | None = None
) -> DeductionCheck:
    """Check the list and, when every row is right, record one payroll-deduction payment per row for the month, all
    in one transaction (a failure anywhere leaves nothing written). Refused as a whole otherwise."""
    today = today or timezone.localdate()
    check = deductions_check(by=by, fileobj=fileobj, name=name, month=month, today=today)
    if not check.ok:
        raise ValidationError({"file": "代扣名单有错误，未导入任何记录，请按提示修改后重新上传。"})
    for row in check.rows:
        payment_record(
            by=by,
            member=row.member_id,
            first_month=check.month,
            months=1,
            paid_on=paid_on or today,
            way=Way.PAYROLL,
            extra=row.extra,
            today=today,
        )
    return check
