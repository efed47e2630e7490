"""The grid (网格化) and pairings (结对) pages: the lists, a new grid cell on a public school, a new pairing of a school
branch with an institution branch, and a pairing's joint activities — each bad input with its message, nothing
saved; the forms for committee staff only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.orgs.models import Unit, UnitKind
from dangjian.supervision.models import GridCell, Pairing, PairingActivity
from dangjian.supervision.services.grid import pairing_create
from dangjian.supervision.tests.factories import SYSTEM, client_for, institution

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_the_committee_creates_a_grid_cell_on_a_public_school(district):
    client = client_for(district.committee)
    page = client.get("/supervision/grid/")
    assert page.status_code == 200 and "益阳实验小学" in page.content.decode()
    response = client.post("/supervision/grid/", {"name": "实验小学网格", "school": district.school.pk, "area": "城东"})
    assert response.status_code == 302
    cell = GridCell.objects.get()
    assert (cell.school, cell.organization, cell.area) == (district.school, district.s, "城东")
    institution(district.j1, grid_cell=cell)
    listed = client.get("/supervision/grid/").context["page"].object_list
    assert [(c.name, c.institution_count) for c in listed] == [("实验小学网格", 1)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "school": "school"}, "请填写网格名称"),
        ({"name": "网格", "school": ""}, "请选择依托的公办学校"),
        ({"name": "网格", "school": "foreign"}, "不在您的管理范围内"),
        ({"name": "网格", "school": "institution"}, "不在您的管理范围内"),
    ],
    ids=["no-name", "no-school", "foreign-school", "not-a-school"],
)
def test_bad_grid_cell_shows_a_message_and_saves_nothing(district, data, message):
    schools = {
        "school": district.school.pk,
        "foreign": Unit.objects.create(name="外区小学", kind=UnitKind.SCHOOL, organization=district.x).pk,
        "institution": institution(district.j1).unit.pk,
        "": "",
    }
    response = client_for(district.committee).post("/supervision/grid/", {**data, "school": schools[data["school"]]})
    assert response.status_code == 200 and message in response.content.decode()
    assert not GridCell.objects.exists()


def test_grid_and_pairing_forms_are_for_committee_staff(district):
    viewer = user_with_role(Role.SECRETARY, district.r)
    client = client_for(viewer)
    assert client.get("/supervision/grid/").context["form"] is None
    assert client.post("/supervision/grid/", {"name": "网格", "school": district.school.pk}).status_code == 403
    assert client.get("/supervision/pairings/").context["form"] is None
    assert client.post("/supervision/pairings/", {"school_branch": "YY-S"}).status_code == 403
    assert not GridCell.objects.exists() and not Pairing.objects.exists()


def test_the_committee_pairs_a_school_branch_with_an_institution_branch(district):
    institution(district.j1)
    client = client_for(district.committee)
    data = {"school_branch": "YY-S", "institution_branch": "YY-P1", "start_on": TODAY.isoformat()}
    assert client.post("/supervision/pairings/", data).status_code == 302
    pairing = Pairing.objects.get()
    assert (pairing.school_branch, pairing.institution_branch) == (district.s, district.j1)
    listed = client.get("/supervision/pairings/")
    assert "城东联合党支部" in listed.content.decode()
    again = client.post("/supervision/pairings/", data)
    assert again.status_code == 200 and "已经结对" in again.content.decode()
    assert Pairing.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"school_branch": "YY-P2"}, "公办学校的党支部"),
        ({"institution_branch": "YY-P2"}, "覆盖培训机构的党支部"),
        ({"institution_branch": "WQ"}, "不在您的管理范围内"),
        ({"start_on": "tomorrow"}, "不能晚于今天"),
        ({"start_on": "2024-02-30"}, "结对日期"),
    ],
    ids=["not-school", "no-institution", "foreign", "future", "bad-date"],
)
def test_bad_pairing_shows_a_message_and_saves_nothing(district, change, message):
    institution(district.j1)
    data = {"school_branch": "YY-S", "institution_branch": "YY-P1", "start_on": TODAY.isoformat(), **change}
    if data["start_on"] == "tomorrow":
        data["start_on"] = (TODAY + dt.timedelta(days=1)).isoformat()
    response = client_for(district.committee).post("/supervision/pairings/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Pairing.objects.exists()


@pytest.fixture
def pairing(district):
    institution(district.j1)
    return pairing_create(
        by=SYSTEM, school_branch=district.s, institution_branch=district.j1, start_on=TODAY - dt.timedelta(days=60)
    )


def test_a_pairings_joint_activity_is_recorded(district, pairing):
    client = client_for(district.committee)
    url = f"/supervision/pairings/{pairing.pk}/"
    data = {"date": TODAY.isoformat(), "title": "党员进社区志愿服务", "participants": "12", "note": "联合开展"}
    assert client.post(url, data).status_code == 302
    activity = PairingActivity.objects.get()
    assert (activity.title, activity.participants) == ("党员进社区志愿服务", 12)
    assert "党员进社区志愿服务" in client.get(url).content.decode()
    assert client.get("/supervision/pairings/").context["page"].object_list[0].activity_count == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "请填写活动主题"),
        ({"date": "before"}, "不能早于结对日期"),
        ({"date": "tomorrow"}, "不能晚于今天"),
        ({"participants": "-3"}, "参加人数"),
    ],
    ids=["no-title", "before-pairing", "future", "negative"],
)
def test_bad_activity_shows_a_message_and_saves_nothing(district, pairing, change, message):
    days = {"before": TODAY - dt.timedelta(days=61), "tomorrow": TODAY + dt.timedelta(days=1)}
    data = {"date": TODAY.isoformat(), "title": "联学", "participants": "5", **change}
    if data["date"] in days:
        data["date"] = days[data["date"]].isoformat()
    response = client_for(district.committee).post(f"/supervision/pairings/{pairing.pk}/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not PairingActivity.objects.exists()


def test_pairing_scope(district, pairing):
    url = f"/supervision/pairings/{pairing.pk}/"
    assert client_for(district.outsider).get(url).status_code == 404
    viewer = user_with_role(Role.SECRETARY, district.s)
    assert client_for(viewer).get(url).status_code == 200
    assert client_for(viewer).post(url, {"date": TODAY.isoformat(), "title": "联学"}).status_code == 403
    assert not PairingActivity.objects.exists()
