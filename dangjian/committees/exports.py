"""The setup report and the lists of the committee pages as .xlsx: one workbook, one sheet per section.

One line builder per section, shared by the page and the workbook, so the columns never drift apart. Formula
injection (OWASP CSV/Excel injection): every cell goes through `core.exports.xlsx_value`, the one guard of all the
exports (a text cell starting with = + - @, a tab or a carriage return is written as a string cell with Excel's quote
prefix). openpyxl's write-only mode streams the rows; the views download through `core.exports.xlsx_file_response`,
which records the export in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import BinaryIO

from openpyxl import Workbook

from dangjian.committees.selectors.setup import SetupFlag, SetupReport
from dangjian.committees.selectors.terms import TermAlert
from dangjian.core.exports import add_sheet

COLUMN_WIDTH = 18

FLAG_HEADERS = ("党组织编码", "党组织名称", "组织类别", "问题类型", "实际数", "规定值", "说明")
ALERT_HEADERS = ("党组织编码", "党组织名称", "组织类别", "状态", "选举日期", "任期（年）", "任期届满日期", "天数")
ELECTION_HEADERS = ("党组织编码", "党组织名称", "选举日期", "任期（年）", "任期届满日期", "委员职数", "当选委员数")
SEAT_HEADERS = ("党组织编码", "党组织名称", "姓名", "职务", "日期", "原因")
ENDED_HEADERS = ("党组织编码", "党组织名称", "选举日期", "结束日期")
CHANGE_HEADERS = ("日期", "变动", "党组织编码", "党组织名称", "组织类别", "说明")


def flag_line(flag: SetupFlag) -> tuple:
    org = flag.organization
    return (org.code, org.name, org.kind_label, flag.label, flag.value, flag.threshold, flag.message)


def alert_line(alert: TermAlert) -> tuple:
    org, term = alert.organization, alert.term
    return (
        org.code,
        org.name,
        org.get_kind_display(),
        alert.status_label,
        term.elected_on if term else None,
        term.term_years if term else None,
        term.ends_on if term else None,
        alert.days,
    )


def summary_lines(report: SetupReport) -> list[tuple]:
    lines: list[tuple] = [
        ("报告", report.title),
        ("党组织", f"{report.root.name}（{report.root.code}）"),
        ("期间", f"{report.start:%Y-%m-%d} 至 {report.end:%Y-%m-%d}"),
        ("生成日期", report.today),
        ("党组织总数（当前）", report.organizations),
    ]
    lines += [(f"  其中{label}", n) for label, n in report.orgs_by_kind if n]
    lines += [
        ("在册党员（当前）", report.members_active),
        ("  正式党员", report.members_full),
        ("  预备党员", report.members_probationary),
        ("期末在任委员会", report.terms_in_office),
        ("  其中期末已届满未换届", report.terms_overdue_at_end),
        ("组织设置问题（当前）", len(report.flags)),
    ]
    lines += [(f"  {label}", n) for label, n in report.flags_by_rule]
    lines += [
        ("本期新建或变更党组织", len(report.org_changes)),
        ("本期换届选举", len(report.elections)),
        ("本期补选", len(report.by_elections)),
        ("本期委员离任", len(report.vacated)),
        ("本期任期结束", len(report.terms_ended)),
    ]
    return lines


def election_lines(report: SetupReport) -> Iterable[tuple]:
    for term in report.elections:
        org = term.organization
        yield (org.code, org.name, term.elected_on, term.term_years, term.ends_on, term.seats, term.elected)


def by_election_lines(report: SetupReport) -> Iterable[tuple]:
    for seat in report.by_elections:
        org = seat.term.organization
        yield (org.code, org.name, seat.member.name, seat.get_position_display(), seat.start_date, "补选")


def vacated_lines(report: SetupReport) -> Iterable[tuple]:
    for seat in report.vacated:
        org = seat.term.organization
        reason = seat.get_vacate_reason_display() + (f"：{seat.vacate_note}" if seat.vacate_note else "")
        yield (org.code, org.name, seat.member.name, seat.get_position_display(), seat.end_date, reason)


def ended_lines(report: SetupReport) -> Iterable[tuple]:
    for term in report.terms_ended:
        yield (term.organization.code, term.organization.name, term.elected_on, term.ended_on)


def change_lines(report: SetupReport) -> Iterable[tuple]:
    for change in report.org_changes:
        yield (change.date.date(), change.kind, change.code, change.name, change.org_kind_label, change.reason)


def _sheet(wb, title: str, headers: Sequence[str] | None, lines: Iterable[Sequence]) -> int:
    widths = [COLUMN_WIDTH] * len(headers or ("", ""))
    return add_sheet(wb, title, headers, lines, widths=widths)


def write_report_xlsx(out: BinaryIO, report: SetupReport) -> int:
    """The setup report as one workbook: 概况, 设置问题, 换届选举, 补选, 委员离任, 任期结束, 党组织变动. The number of
    data rows written."""
    wb = Workbook(write_only=True)
    rows = _sheet(wb, "概况", None, summary_lines(report))
    rows += _sheet(wb, "设置问题", FLAG_HEADERS, (flag_line(f) for f in report.flags))
    rows += _sheet(wb, "换届选举", ELECTION_HEADERS, election_lines(report))
    rows += _sheet(wb, "补选", SEAT_HEADERS, by_election_lines(report))
    rows += _sheet(wb, "委员离任", SEAT_HEADERS, vacated_lines(report))
    rows += _sheet(wb, "任期结束", ENDED_HEADERS, ended_lines(report))
    rows += _sheet(wb, "党组织变动", CHANGE_HEADERS, change_lines(report))
    wb.save(out)
    return rows


def write_list_xlsx(out: BinaryIO, *, title: str, headers: Sequence[str], lines: Iterable[Sequence]) -> int:
    """One list (setup flags, term alerts) as a one-sheet workbook."""
    wb = Workbook(write_only=True)
    rows = _sheet(wb, title, headers, lines)
    wb.save(out)
    return rows
