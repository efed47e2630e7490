"""The committee pages: lists, the organization page, the election, by-election and vacate forms (with bad input:
a Chinese message, nothing saved, never a 500), the setup page and the report with its workbook and print page."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.committees.models import CommitteeSeat, CommitteeTerm, Position, TermStatus
from dangjian.committees.selectors.policies import add_months
from dangjian.committees.tests.factories import elect, full_members
from dangjian.members.models import Category
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def place():
    committee = OrganizationFactory(kind=OrgKind.COMMITTEE, code="C1", name="一中党委")
    branch = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH, code="C1A", name="高一党支部")
    members = full_members(branch, 4)
    return committee, branch, members


def _client(role, org) -> Client:
    user = UserFactory()
    grant(user, role, org)
    client = Client()
    client.force_login(user)
    return client


def _body(response) -> str:
    return response.content.decode()


def _ending_term(branch, members):
    # Elected 33 months ago: the 3-year term ends about three months from today, whatever day the suite runs.
    today = timezone.localdate()
    elected = add_months(today, -33)
    return elect(branch, members[:3], elected_on=elected, today=today)


def test_term_list_shows_ending_and_overdue(place):
    committee, branch, members = place
    term = _ending_term(branch, members)
    client = _client(Role.COMMITTEE, committee)
    body = _body(client.get(reverse("committees:term_list")))
    assert "高一党支部" in body and "即将届满" in body
    overdue = _body(client.get(reverse("committees:term_list"), {"status": "overdue"}))
    assert "一中党委" in overdue and "应选未选" in overdue  # a 党委 without a committee term
    everything = _body(client.get(reverse("committees:term_list"), {"status": "all", "kind": OrgKind.BRANCH}))
    assert term.ends_on.strftime("%Y-%m-%d") in everything
    response = client.get(reverse("committees:term_list"), {"status": "ending", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[1][:2] == ("C1A", "高一党支部")


def test_term_list_bad_filter_is_a_message(place):
    committee, _, _ = place
    client = _client(Role.COMMITTEE, committee)
    other = OrganizationFactory(code="ELSEWHERE")
    response = client.get(reverse("committees:term_list"), {"org": other.code, "status": "bogus"})
    assert response.status_code == 200
    body = _body(response)
    assert "找不到党组织编码" in body and "范围" in body


def test_lists_need_a_subtree_role(place):
    _, branch, _ = place
    for role, org in ((Role.MEMBER, branch), (Role.SYSTEM_ADMIN, None)):
        client = _client(role, org)
        for name in ("committees:term_list", "committees:setup", "committees:report"):
            assert client.get(reverse(name)).status_code == 403


def test_organization_page_shows_seats_vacancies_and_warning(place):
    _committee, branch, members = place
    term = _ending_term(branch, members)
    seat = term.holdings.get(position=Position.MEMBER, member=members[1])
    seat.end_date, seat.vacate_reason = term.elected_on + dt.timedelta(days=30), "transfer"
    seat.save()
    client = _client(Role.SECRETARY, branch)
    body = _body(client.get(reverse("committees:organization", args=[branch.pk])))
    assert members[0].name in body and "书记" in body
    assert 'id="vacancies"' in body and "待补选" in body
    assert 'id="term-ending"' in body
    assert reverse("committees:elect", args=[branch.pk]) in body
    # An instructor sees the page but not the forms.
    instructor = _client(Role.INSTRUCTOR, branch)
    body = _body(instructor.get(reverse("committees:organization", args=[branch.pk])))
    assert members[0].name in body and reverse("committees:elect", args=[branch.pk]) not in body
    assert instructor.get(reverse("committees:elect", args=[branch.pk])).status_code == 403
    assert instructor.post(reverse("committees:vacate", args=[branch.pk])).status_code == 403


def _elect_data(members, **overrides):
    data = {"elected_on": "2025-03-01", "seats": "3", "notes": ""}
    for i, member in enumerate(members):
        data[f"member_{i}"] = str(member.pk)
        data[f"position_{i}"] = Position.SECRETARY if i == 0 else Position.MEMBER
    data.update(overrides)
    return data


def test_elect_form_records_the_committee(place):
    _, branch, members = place
    client = _client(Role.SECRETARY, branch)
    url = reverse("committees:elect", args=[branch.pk])
    assert members[0].name in _body(client.get(url))
    response = client.post(url, _elect_data(members[:3]))
    assert response.status_code == 302 and response["Location"] == reverse("committees:organization", args=[branch.pk])
    term = CommitteeTerm.objects.get()
    assert term.elected_on == dt.date(2025, 3, 1) and term.holdings.count() == 3


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("future", "选举日期不能晚于今天"),
        ("bad_date", "选举日期"),
        ("too_many", "超过委员职数"),
        ("no_secretary", "应有且只有一名书记"),
        ("outsider", "选择一个有效的选项"),
        ("probationary", "选择一个有效的选项"),
        ("seats", "委员职数"),
        ("nobody", "请至少登记一名当选委员"),
    ],
)
def test_elect_form_bad_input(place, case, message):
    _, branch, members = place
    client = _client(Role.SECRETARY, branch)
    data = _elect_data(members[:3])
    if case == "future":
        data["elected_on"] = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    elif case == "bad_date":
        data["elected_on"] = "2025-02-30"
    elif case == "too_many":
        data["seats"] = "2"
    elif case == "no_secretary":
        data["position_0"] = Position.MEMBER
    elif case == "outsider":
        data["member_2"] = str(MemberFactory().pk)  # a member of another organization, sent by a tampered form
    elif case == "probationary":
        data["member_2"] = str(MemberFactory(organization=branch, category=Category.PROBATIONARY, full_date=None).pk)
    elif case == "seats":
        data["seats"] = "abc"
    elif case == "nobody":
        data = {"elected_on": "2025-03-01", "seats": "3"}
    response = client.post(reverse("committees:elect", args=[branch.pk]), data)
    assert response.status_code == 200
    assert message in _body(response)
    assert not CommitteeTerm.objects.exists() and not CommitteeSeat.objects.exists()


def test_vacate_and_by_election_forms(place):
    _, branch, members = place
    term = elect(branch, members[:3], elected_on=dt.date(2025, 3, 1))
    client = _client(Role.SECRETARY, branch)
    seat = term.holdings.get(member=members[2])
    vacate = reverse("committees:vacate", args=[branch.pk])
    assert members[2].name in _body(client.get(vacate, {"seat": seat.pk}))
    response = client.post(vacate, {"seat": seat.pk, "date": "2025-06-01", "reason": "transfer", "note": "调往二中"})
    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.end_date == dt.date(2025, 6, 1)

    by_election = reverse("committees:by_election", args=[branch.pk])
    # Bad input: a date before the seat was vacated.
    data = {"seat": seat.pk, "position": "", "member": members[3].pk, "date": "2025-05-01"}
    response = client.post(by_election, data)
    assert response.status_code == 200 and "补选日期不能早于原委员离任日期" in _body(response)
    assert term.holdings.count() == 3
    response = client.post(by_election, {**data, "date": "2025-07-01"})
    assert response.status_code == 302
    new = term.holdings.get(member=members[3])
    assert new.replaces == seat and new.position == seat.position
    # No vacancy left: refused with a message.
    response = client.post(
        by_election, {"seat": "", "position": "member", "member": members[2].pk, "date": "2025-08-01"}
    )
    assert response.status_code == 200 and "没有空缺" in _body(response)


def test_seat_forms_without_a_term(place):
    _, branch, _ = place
    client = _client(Role.SECRETARY, branch)
    for name in ("committees:by_election", "committees:vacate"):
        response = client.post(reverse(name, args=[branch.pk]), {"date": "2025-01-01"})
        assert response.status_code == 200 and 'id="no-term"' in _body(response)


def test_setup_page_and_export(place):
    committee, _branch, _ = place
    small = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH, code="C1S", name="小支部")
    MemberFactory(organization=small)
    client = _client(Role.COMMITTEE, committee)
    body = _body(client.get(reverse("committees:setup")))
    assert "小支部" in body and "正式党员1人，少于3人" in body
    body = _body(client.get(reverse("committees:setup"), {"rule": "too_many_units"}))
    assert "小支部" not in body
    response = client.get(reverse("committees:setup"), {"org": "C1", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert [r[0] for r in rows[1:]] == ["C1S"]


def test_report_page_export_and_print(place):
    committee, branch, members = place
    elect(branch, members[:3], elected_on=dt.date(2025, 3, 1))
    client = _client(Role.COMMITTEE, committee)
    body = _body(client.get(reverse("committees:report")))
    assert "一中党委" in body and "组织设置排查" in body and 'id="export-xlsx"' in body
    params = {"org": "C1", "year": "2025", "period": "H1"}
    body = _body(client.get(reverse("committees:report"), params))
    assert "2025年上半年组织设置情况报告" in body and "高一党支部" in body
    response = client.get(reverse("committees:report"), {**params, "format": "xlsx"})
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [r[0] for r in list(wb["换届选举"].values)[1:]] == ["C1A"]
    printed = _body(client.get(reverse("committees:report"), {**params, "format": "print"}))
    assert "<nav" not in printed and "2025年上半年组织设置情况报告" in printed


@pytest.mark.parametrize("params", [{"year": "1800"}, {"period": "Q9"}, {"org": "NOPE"}, {"year": "abc"}])
def test_report_bad_input(place, params):
    committee, _, _ = place
    response = _client(Role.COMMITTEE, committee).get(reverse("committees:report"), params)
    assert response.status_code == 200
    assert "invalid-feedback" in _body(response)


def test_term_list_queries_do_not_grow(place, django_assert_max_num_queries):
    committee, branch, members = place
    _ending_term(branch, members)
    client = _client(Role.COMMITTEE, committee)
    for status in ("ending", "overdue", "all"):
        with django_assert_max_num_queries(14):
            client.get(reverse("committees:term_list"), {"status": status})
    for _i in range(8):
        org = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH)
        _ending_term(org, full_members(org, 3))
    for status in ("ending", "overdue", "all"):
        with django_assert_max_num_queries(14):
            assert client.get(reverse("committees:term_list"), {"status": status}).status_code == 200
    assert CommitteeTerm.objects.filter(status=TermStatus.CURRENT).count() == 9
