"""Registering an institution with its unit (机构登记) and editing the unit through `institution_update`: the
covering organization is a branch in the committee's subtrees, the managing one a committee there; every bad input
is refused with a message naming the field, and nothing is saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangjian.orgs.models import Unit, UnitKind
from dangjian.supervision.models import ApprovalStatus, GridCell, Institution
from dangjian.supervision.services.institutions import institution_create, institution_update
from dangjian.supervision.tests.conftest import TODAY
from dangjian.supervision.tests.factories import institution, licence

pytestmark = pytest.mark.django_db


def _values(district, **changes) -> dict:
    values = {
        "name": "晨曦美术培训中心",
        "credit_code": "91430902MA4L0XY01B",
        "address": "益阳市赫山区龙岭大道8号",
        "organization": district.j1,
        "managing_organization": district.p,
        "licence_no": licence(),
        "subject_type": "non_subject",
        "staff_count": 12,
        "area": "城东",
        "today": TODAY,
    }
    values.update(changes)
    return values


def test_the_committee_registers_an_institution_with_its_unit(district):
    inst = institution_create(by=district.committee, **_values(district))
    unit = inst.unit
    assert (unit.name, unit.kind, unit.organization, unit.managing_organization) == (
        "晨曦美术培训中心",
        UnitKind.TRAINING_INSTITUTION,
        district.j1,
        district.p,
    )
    assert inst.approval_status == ApprovalStatus.PREPARING and inst.staff_count == 12
    assert inst.history.count() == 1 and unit.history.count() == 1


def test_an_uncovered_institution_is_registered_under_its_managing_committee(district):
    inst = institution_create(by=district.committee, **_values(district, organization=None))
    assert inst.unit.organization is None
    assert Institution.objects.visible_to(district.committee).filter(pk=inst.pk).exists()


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no_name", "name"),
        ("bad_credit_code", "credit_code"),
        ("duplicate_credit_code", "credit_code"),
        ("committee_as_covering", "organization"),
        ("foreign_covering", "organization"),
        ("no_managing", "managing_organization"),
        ("foreign_managing", "managing_organization"),
        ("bad_licence", "licence_no"),
        ("duplicate_licence", "licence_no"),
        ("approved_without_date", "approved_on"),
        ("cancelled_without_closing", "closed_on"),
        ("foreign_grid_cell", "grid_cell"),
    ],
)
def test_bad_registrations_save_nothing(district, case, field):
    existing = institution(district.j1)
    existing.unit.credit_code = "91430902MA4L0XY01B"
    existing.unit.save()
    foreign_school = Unit.objects.create(name="外区小学", kind=UnitKind.SCHOOL, organization=district.x)
    changes = {
        "no_name": {"name": "  "},
        "bad_credit_code": {"credit_code": "123"},
        "duplicate_credit_code": {},
        "committee_as_covering": {"organization": district.p},
        "foreign_covering": {"organization": district.x},
        "no_managing": {"managing_organization": None},
        "foreign_managing": {"managing_organization": district.x},
        "bad_licence": {"licence_no": "许可证123"},
        "duplicate_licence": {"licence_no": existing.licence_no},
        "approved_without_date": {"approval_status": ApprovalStatus.APPROVED},
        "cancelled_without_closing": {"approval_status": ApprovalStatus.CANCELLED, "approved_on": dt.date(2023, 1, 1)},
        "foreign_grid_cell": {
            "grid_cell": GridCell.objects.create(name="外区网格", school=foreign_school, organization=district.x)
        },
    }[case]
    if case != "duplicate_credit_code":
        changes.setdefault("credit_code", "")
    units = Unit.objects.count()
    with pytest.raises(ValidationError) as exc:
        institution_create(by=district.committee, **_values(district, **changes))
    assert field in exc.value.message_dict
    assert Institution.objects.count() == 1 and Unit.objects.count() == units


def test_every_problem_is_reported_at_once(district):
    with pytest.raises(ValidationError) as exc:
        institution_create(
            by=district.committee, **_values(district, name="", licence_no="x", subject_type="?", staff_count=-3)
        )
    assert {"name", "licence_no", "subject_type", "staff_count"} <= set(exc.value.message_dict)


def test_committee_staff_of_another_district_may_not_register_here(district):
    with pytest.raises(PermissionDenied):
        institution_create(by=district.outsider, **_values(district))
    assert not Institution.objects.exists()


def test_the_unit_is_edited_with_the_registration(district):
    inst = institution(district.j1, name="旧名称")
    institution_update(
        by=district.committee,
        institution=inst,
        name="新名称",
        address="新地址",
        organization=district.j2,
        staff_count=20,
        today=TODAY,
    )
    inst.refresh_from_db()
    assert (inst.unit.name, inst.unit.address, inst.unit.organization, inst.staff_count) == (
        "新名称",
        "新地址",
        district.j2,
        20,
    )


def test_an_edit_may_not_move_the_institution_out_of_reach(district):
    inst = institution(district.j1, name="机构甲")
    with pytest.raises(ValidationError) as exc:
        institution_update(
            by=district.committee, institution=inst, managing_organization=district.x, organization=None, today=TODAY
        )
    assert "managing_organization" in exc.value.message_dict
    inst.unit.refresh_from_db()
    assert (inst.unit.organization, inst.unit.managing_organization) == (district.j1, district.j1)
