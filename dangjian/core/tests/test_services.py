"""The services kit (core.services): the acting user, the history author outside a request, the error collector
and the permission checks — the pieces every app's services share."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError

from dangjian.accounts.access import Access, access_for
from dangjian.accounts.roles import Role
from dangjian.core.services import Errors, acting_user, require, require_editor, service, set_history
from dangjian.orgs import services as org_services
from dangjian.orgs.models import Organization
from dangjian.supervision.models import GridCell
from dangjian.supervision.services.grid import grid_cell_create


def test_acting_user_is_the_account_behind_by(world):
    user = world.user(Role.COMMITTEE)
    assert acting_user(user) is user
    assert acting_user(Access.system_access()) is None
    assert acting_user(access_for(user)) is None
    assert acting_user(AnonymousUser()) is None
    assert acting_user(None) is None


def test_errors_collect_every_field_and_raise_once():
    errors = Errors()
    assert not errors
    errors.add("date", "日期不能晚于今天。")
    errors.add(None, "没有需要更正的内容。")
    errors.merge(ValidationError({"date": ["日期格式不正确。"], "name": ["请填写名称。"]}))
    errors.merge(ValidationError("整体错误"))
    assert errors and "date" in errors
    with pytest.raises(ValidationError) as raised:
        errors.raise_if_any()
    assert raised.value.message_dict == {
        "date": ["日期不能晚于今天。", "日期格式不正确。"],
        NON_FIELD_ERRORS: ["没有需要更正的内容。", "整体错误"],
        "name": ["请填写名称。"],
    }


def test_require_and_require_editor(world):
    require(True, "x")
    with pytest.raises(PermissionDenied, match="不行"):
        require(False, "不行")
    secretary = access_for(world.user(Role.SECRETARY))
    require_editor(secretary, world.orgs["A"])
    with pytest.raises(PermissionDenied, match="不在您的管理范围内"):
        require_editor(secretary, world.orgs["B"])


def test_set_history_names_the_author_and_the_reason(world):
    user = world.user(Role.COMMITTEE)
    org = world.orgs["A"]
    set_history(org, user, "  改名  ")
    org.name = "高一党支部"
    org.save()
    row = org.history.latest()
    assert (row.history_user, row.history_change_reason) == (user, "改名")


def test_history_rows_written_outside_a_request_name_their_author(world):
    """Before the kit, apps that relied on the request middleware wrote history rows without an author when a
    command, an import or the demo called their services."""
    committee = world.user(Role.COMMITTEE)
    org_services.organization_update(by=committee, org=world.orgs["B"], name="高二党支部")
    assert Organization.history.filter(name="高二党支部").latest().history_user == committee
    school = world.units["A"]
    cell = grid_cell_create(by=committee, name="城东网格", school=school)
    assert GridCell.history.get(pk=cell.pk).history_user == committee
    # The system access of a command names nobody, and a page's own user is never replaced.
    org_services.organization_update(by=Access.system_access(), org=world.orgs["B"], name="高二年级党支部")
    assert Organization.history.filter(name="高二年级党支部").latest().history_user is None


def test_the_service_decorator_is_one_transaction(db):
    @service
    def failing(*, by):
        Organization.objects.create(name="临时", code="TMP", path="9999", depth=1)
        raise ValidationError("不保存")

    with pytest.raises(ValidationError):
        failing(by=None)
    assert not Organization.objects.dangerously_all().filter(code="TMP").exists()
