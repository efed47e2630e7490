"""The pages: the list as cards, registration and step forms (every error at once, in Chinese, naming the field;
nothing saved), the timeline with the next step due, the print page, the plan; out of scope is 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.development.models import Candidate, PlanQuota, StepRecord
from dangjian.development.tests.factories import on_path, person, register
from dangjian.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response) -> str:
    return response.content.decode()


def test_the_list_shows_the_branchs_people_as_cards_with_their_next_step(place):
    candidate = register(place.secretary, place.branch, applied_on=timezone.localdate() - dt.timedelta(days=40))
    hidden = register(place.other_secretary, place.other_branch, applied_on=timezone.localdate())
    body = _body(_client(place.secretary).get(reverse("development:list")))
    assert candidate.name in body and hidden.name not in body
    assert "第2步 党组织派人谈话" in body and "已逾期" in body
    assert candidate.id_number not in body and candidate.masked_id_number in body


def test_registering_an_applicant_through_the_form(place):
    data = person()
    response = _client(place.secretary).post(
        reverse("development:create"),
        {**data, "organization": place.branch.code, "applied_on": timezone.localdate().isoformat()},
    )
    candidate = Candidate.objects.get()
    assert response.status_code == 302 and response["Location"] == candidate.get_absolute_url()


def test_a_bad_registration_shows_every_error_and_saves_nothing(place):
    data = person(birth=timezone.localdate() - dt.timedelta(days=17 * 365))
    response = _client(place.secretary).post(
        reverse("development:create"),
        {**data, "id_number": "123", "organization": place.other_branch.code, "applied_on": ""},
    )
    body = _body(response)
    assert response.status_code == 200
    assert "所在党支部：找不到党组织编码" in body
    assert "递交入党申请书日期：请填写递交入党申请书日期" in body
    assert "公民身份号码：" in body
    assert not Candidate.objects.exists()


def test_an_under_age_application_is_refused_on_the_page(place):
    data = person(birth=timezone.localdate() - dt.timedelta(days=17 * 365))
    response = _client(place.secretary).post(
        reverse("development:create"),
        {**data, "organization": place.branch.code, "applied_on": timezone.localdate().isoformat()},
    )
    assert "递交入党申请书日期：申请人递交申请时未满18周岁" in _body(response)
    assert not Candidate.objects.exists()


def test_the_timeline_and_the_step_form(place):
    candidate = on_path(place.secretary, place.branch, to=4, branch_members=place.members, days_ago=100)
    client = _client(place.secretary)
    body = _body(client.get(candidate.get_absolute_url()))
    assert "下一步：第5步 指定培养联系人" in body and "第1阶段 入党申请" in body
    url = reverse("development:step", args=[candidate.pk])
    assert "培养联系人" in _body(client.get(url))
    probationary = MemberFactory(organization=place.branch, probationary=True)
    response = client.post(url, {"date": "", "contacts": [probationary.pk]})
    body = _body(response)
    assert response.status_code == 200 and "日期：请填写日期" in body
    response = client.post(url, {"date": timezone.localdate().isoformat(), "contacts": [probationary.pk]})
    assert f"培养联系人：{probationary.name}不是本支部的正式党员" in _body(response)
    assert candidate.steps.count() == 4
    response = client.post(url, {"date": timezone.localdate().isoformat(), "contacts": [place.members[0].pk]})
    assert response.status_code == 302 and candidate.steps.count() == 5
    assert place.members[0].name in _body(client.get(reverse("development:print", args=[candidate.pk])))


def test_a_late_talk_asks_for_the_exception_on_the_page(place):
    candidate = register(place.secretary, place.branch, applied_on=timezone.localdate() - dt.timedelta(days=60))
    url = reverse("development:step", args=[candidate.pk])
    client = _client(place.secretary)
    body = _body(client.post(url, {"date": timezone.localdate().isoformat()}))
    assert "例外情况说明：" in body and "第八条" in body
    assert StepRecord.objects.count() == 1
    client.post(url, {"date": timezone.localdate().isoformat(), "exception_reason": "外出培训"})
    assert StepRecord.objects.count() == 2


def test_a_person_outside_the_scope_is_404_and_nothing_saved(place):
    candidate = register(place.secretary, place.branch, applied_on=timezone.localdate() - dt.timedelta(days=5))
    client = _client(place.other_secretary)
    assert client.get(candidate.get_absolute_url()).status_code == 404
    response = client.post(reverse("development:step", args=[candidate.pk]), {"date": timezone.localdate()})
    assert response.status_code == 404 and StepRecord.objects.count() == 1


def test_a_plain_member_does_not_act_in_development(place):
    user = UserFactory()
    grant(user, Role.MEMBER, place.branch)
    assert _client(user).get(reverse("development:list")).status_code == 403


def test_the_plan_is_set_by_committee_staff_and_shows_delivery(place):
    year = timezone.localdate().year
    client = _client(place.committee_user)
    response = client.post(
        reverse("development:plan"), {"organization": place.branch.code, "year": year, "quota": 3, "note": ""}
    )
    assert response.status_code == 302 and PlanQuota.objects.get().quota == 3
    body = _body(client.get(reverse("development:plan"), {"org": place.committee.code, "year": year}))
    assert place.branch.name in body
    response = _client(place.secretary).post(
        reverse("development:plan"), {"organization": place.branch.code, "year": year, "quota": 9}
    )
    assert response.status_code == 403 and PlanQuota.objects.get().quota == 3
