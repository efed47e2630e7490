"""Points and the red list (过程监管积分、红名单, Yiyang): points entered under a rule and reversed by a new entry, and
the year's red list, refused for an institution with an open violation or outside the red list of its ranking."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from dangjian.core.services import Errors, acting_user, service
from dangjian.supervision.models import ApprovalStatus, Institution, PointEvent, PointRule, RedListEntry
from dangjian.supervision.services._common import check_date, local_today, require_manager


def rule_applies(rule: PointRule, institution: Institution) -> bool:
    owner = rule.owner
    return owner is None or institution.scope_path.startswith(owner.path)


@service
def point_event_record(
    *,
    by,
    institution: Institution,
    rule: PointRule | int | None,
    date: dt.date,
    note: str = "",
    today: dt.date | None = None,
) -> PointEvent:
    """Enter points in an institution's ledger (过程监管积分, Yiyang: 党建工作纳入《过程监管积分制度》) under a rule:
    the points are copied from the rule, the year is the date's. A rule is required, active, valid that year and
    applying to the institution (owned by the system or an organization above it); only approved institutions
    score."""
    institution = Institution.objects.select_related("unit__organization", "unit__managing_organization").get(
        pk=institution.pk
    )
    require_manager(by, institution)
    today = local_today(today)
    errors = Errors()
    if check_date(errors, "date", date, today, "记分日期") is None:
        errors.raise_if_any()
    found: PointRule | None = None
    if rule in (None, ""):
        errors.add("rule", "请选择积分细则：没有细则依据的积分不能登记。")
    else:
        pk = rule.pk if isinstance(rule, PointRule) else rule
        found = PointRule.objects.dangerously_all().select_related("owner").filter(pk=pk).first()
        if found is None or not found.active or not rule_applies(found, institution):
            errors.add("rule", "找不到该积分细则，或该细则不适用于本机构。")
        elif not (found.valid_from <= date.year and (found.valid_to is None or found.valid_to >= date.year)):
            errors.add("rule", f"该积分细则不适用于{date.year}年度。")
    if institution.approval_status != ApprovalStatus.APPROVED:
        errors.add("institution", "只有已审批的机构参与过程监管积分。")
    errors.raise_if_any()
    assert found is not None  # refused above without an applicable rule
    return PointEvent.objects.create(
        institution=institution,
        year=date.year,
        rule=found,
        points=found.points,
        date=date,
        note=(note or "").strip()[:200],
        recorded_by=acting_user(by),
    )


@service
def point_event_reverse(*, by, event: PointEvent, reason: str, today: dt.date | None = None) -> PointEvent:
    """Reverse a points entry (冲销) with a new entry of the opposite points, same rule and year; entries are never
    edited or deleted. An entry is reversed at most once; a reversal is not reversed."""
    event = PointEvent.objects.select_for_update(of=("self",)).select_related("institution__unit").get(pk=event.pk)
    require_manager(by, event.institution)
    today = local_today(today)
    reason = (reason or "").strip()
    errors = Errors()
    if not reason:
        errors.add("reason", "请填写冲销原因。")
    if event.reverses_id is not None:
        errors.add("reason", "冲销记录不能再次冲销。")
    if PointEvent.objects.filter(reverses=event).exists():
        errors.add("reason", "该积分记录已冲销。")
    errors.raise_if_any()
    return PointEvent.objects.create(
        institution=event.institution,
        year=event.year,
        rule=event.rule,
        points=-event.points,
        date=max(today, event.date) if today.year == event.year else event.date,
        note=f"冲销：{reason}"[:200],
        reverses=event,
        recorded_by=acting_user(by),
    )


@service
def red_list_request(*, by, institution: Institution, year: int, today: dt.date | None = None) -> RedListEntry:
    """Put an institution on the year's red list (列入红名单, Yiyang seed docs/rules.md: 创建“红名单”制度，入选机构
    优先进校参与课后服务), marked for after-school-service priority. Only an approved institution; refused when it has
    an open violation of that year (an open clue found in the year) or is not within the red list of its ranking
    (`selectors.points.red_list_standing`). The entry is what the reports show as the year's red list."""
    from dangjian.supervision.selectors.points import YEAR_MAX, YEAR_MIN, red_list_standing

    institution = Institution.objects.select_related("unit").get(pk=institution.pk)
    require_manager(by, institution)
    today = local_today(today)
    if not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationError({"year": f"年度应为{YEAR_MIN}到{YEAR_MAX}之间的四位数字。"})
    if RedListEntry.objects.filter(institution=institution, year=year).exists():
        raise ValidationError({"institution": "该机构已列入本年度红名单。"})
    row = red_list_standing(institution=institution, year=year, today=today)
    if row is None or institution.approval_status != ApprovalStatus.APPROVED:
        raise ValidationError({"institution": "只有已审批的机构可以列入红名单。"})
    if row.open_violations:
        raise ValidationError(
            {"institution": f"该机构{year}年度有{row.open_violations}条未办结的违规线索，不能列入红名单。"}
        )
    if not row.red_list:
        raise ValidationError(
            {"institution": f"该机构{year}年度积分{row.points}分、排名第{row.rank}名，不在红名单名额内。"}
        )
    return RedListEntry.objects.create(
        institution=institution, year=year, points=row.points, rank=row.rank, listed_on=today, listed_by=acting_user(by)
    )
