"""The supervision reports as files: one line builder per report, shared by the pages' .xlsx and the command, so
the columns never drift apart. Written with `core.exports` (.xlsx and CSV with the formula-injection guard, and the
export's audit record) and `training.exports` (the reports' CSV number formats and the aligned table)."""

from __future__ import annotations

from dangjian.core.exports import Percent

RANKING_HEADERS: tuple[str, ...] = ("机构名称", "许可证号", "积分", "名次", "红名单")
# 红名单: the published listing of the year (是 only for an institution put on that year's red list); the detail's last
# column says whether the institution is within the red list of the ranking (may be put on it).
RANKING_DETAIL_HEADERS: tuple[str, ...] = (*RANKING_HEADERS, "片区", "本年度未办结违规线索", "符合红名单条件")
COVERAGE_HEADERS: tuple[str, ...] = ("分组", "机构数", "已纳入党组织", "组织覆盖率", "已派驻指导员", "工作覆盖率")
INSTITUTION_HEADERS: tuple[str, ...] = (
    "机构名称",
    "办学许可证号",
    "培训类别",
    "审批状态",
    "审批日期",
    "片区",
    "所属党组织",
    "主管党组织",
    "从业人员数",
    "现任党建指导员",
)
MISSING_HEADERS: tuple[str, ...] = ("机构名称", "党建指导员", "月份", "状态")
YEAR_SUMMARY_HEADERS: tuple[str, ...] = (
    "党建指导员",
    "年度",
    "派驻机构数",
    "上门指导次数",
    "其中补充走访",
    "以案说法次数",
    "“四个一”全部完成",
    "提供违规线索",
    "已移交执法部门",
    "参与查处",
)


def ranking_line(row) -> tuple:
    """机构名称,许可证号,积分,名次,红名单 — 红名单 is the actual listing of the year (`RankRow.listed`), never the
    eligibility: an institution is on the red list only once the committee has put it there (Yiyang seed,
    docs/rules.md: 创建“红名单”制度)."""
    return (row.name, row.licence_no, row.points, row.rank, "是" if row.listed else "否")


def ranking_detail_line(row) -> tuple:
    return (*ranking_line(row), row.area, row.open_violations, "是" if row.red_list else "否")


def coverage_line(row) -> tuple:
    return (row.label, row.total, row.org_covered, Percent(row.org_rate), row.work_covered, Percent(row.work_rate))


def institution_line(inst, instructor: str = "") -> tuple:
    unit = inst.unit
    return (
        unit.name,
        inst.licence_no,
        inst.get_subject_type_display(),
        inst.get_approval_status_display(),
        inst.approved_on.isoformat() if inst.approved_on else "",
        inst.area,
        unit.organization.name if unit.organization else "未纳入",
        unit.managing_organization.name if unit.managing_organization else "",
        inst.staff_count,
        instructor,
    )


def missing_line(row) -> tuple:
    return (
        row.institution_name,
        row.instructor_name,
        f"{row.month:%Y-%m}",
        row.status,
    )


def year_summary_line(label: str, summary) -> tuple:
    return (
        label,
        summary.year,
        summary.institutions,
        summary.visits,
        summary.supplements,
        summary.case_law_sessions,
        summary.four_items_complete,
        summary.clues,
        summary.clues_passed,
        summary.enforcement_actions,
    )
