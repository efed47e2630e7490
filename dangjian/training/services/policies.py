"""The hours requirements (学时要求) as data: saving a policy, switching it on or off.

Rules (docs/rules.md, "How the rules combine"): requirements are valid for a range of years and an owner's subtree (the
whole system when there is no owner); they are set by work-committee staff (工委工作人员) over the owner — a
system-wide policy only by the system itself (a job, a command, a migration), though the system admin may switch
one on or off (`Access.can_switch_policy_of`: the seed rules ship on; an operator switches off what does not apply
to the region). Every change is recorded in the policy's history with its reason. A policy may not contradict another
active one: same owner and applies_to, overlapping year ranges, and a different online cap or pro-rating is refused
with a message naming the other policy and its years (two rules for the same people and years must agree on how
hours count). Different required hours are no contradiction: several documents set minimums for the same people
(the national 32 hours and Jiangsu's 24 for every member, both seeded on) and of the rules that apply the strictest
wins — see `selectors.compliance`. Hours come in steps of 0.5, like every ledger entry.
"""

from __future__ import annotations

import zlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.services import service, set_history
from dangjian.orgs.models import Organization
from dangjian.training.models import HALF, HoursPolicy, ProRating
from dangjian.training.selectors.compliance import YEAR_MAX, YEAR_MIN, hours_text, policy_years

POLICY_FIELDS = frozenset(
    {
        "name",
        "owner",
        "applies_to",
        "valid_from",
        "valid_to",
        "required_hours",
        "online_cap",
        "pro_rating",
        "source",
        "active",
    }
)
NOT_COMMITTEE = "只有工委工作人员可以为本级及下级党组织设置学时要求。"
SYSTEM_ONLY = "全系统适用的学时要求只能由系统设置，请指定适用党组织。"
NOT_FOUND = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"
_LOCK_NAMESPACE = 60601  # pg_advisory_xact_lock(namespace, key): the policies of one owner and applies_to


def policy_orgs(by):
    """The organizations `by` may set requirements for: the subtrees of their work-committee grants."""
    return Organization.objects.granted_to(by, [Role.COMMITTEE])


def _require_manager(by, owner: Organization | None) -> None:
    if not access_for(by).is_committee_over(owner):
        is_committee = bool(access_for(by).roots_of([Role.COMMITTEE]))
        raise PermissionDenied(SYSTEM_ONLY if owner is None and is_committee else NOT_COMMITTEE)


def _resolve_owner(by, owner):
    """An owner given by code is looked up only among the organizations `by` may set requirements for."""
    if owner is None or isinstance(owner, Organization):
        return owner
    code = str(owner).strip()
    if not code:
        return None
    found = policy_orgs(by).filter(code=code).first()
    if found is None:
        raise ValidationError({"owner": NOT_FOUND.format(code=code)})
    return found


def _lock(owner: Organization | None, applies_to: str) -> None:
    """Serialize the saves of one owner's policies for one applies_to, so that two contradicting policies saved
    at the same moment cannot both pass the check. PostgreSQL: a transaction-level advisory lock; SQLite: the
    write transaction itself (IMMEDIATE mode) already runs alone."""
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"{owner.pk if owner else '-'}:{applies_to}".encode()) & 0x7FFFFFFF
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, key])


def _half_steps(value, field: str, label: str) -> None:
    if value is None:
        return
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: f"{label}应为数字。"}) from None
    if number.is_finite() and (number / HALF) != (number / HALF).to_integral_value():
        raise ValidationError({field: f"{label}应为0.5的整数倍（如24、32.5）。"})


def _check_years(policy: HoursPolicy) -> None:
    errors = {}
    for name, label in (("valid_from", "起始年度"), ("valid_to", "截止年度")):
        value = getattr(policy, name)
        if value is not None and not YEAR_MIN <= value <= YEAR_MAX:
            errors[name] = f"{label}应在{YEAR_MIN}到{YEAR_MAX}年之间。"
    if not errors and policy.valid_to is not None and policy.valid_from and policy.valid_to < policy.valid_from:
        errors["valid_to"] = f"截止年度（{policy.valid_to}）不能早于起始年度（{policy.valid_from}）。"
    if errors:
        raise ValidationError(errors)


def _overlaps(a: HoursPolicy, b: HoursPolicy) -> bool:
    a_end = a.valid_to if a.valid_to is not None else YEAR_MAX + 1
    b_end = b.valid_to if b.valid_to is not None else YEAR_MAX + 1
    return a.valid_from <= b_end and b.valid_from <= a_end


def _cap_text(cap) -> str:
    return "不设上限" if cap is None else f"{hours_text(cap)}学时"


def _check_no_contradiction(policy: HoursPolicy) -> None:
    """Refuse an active policy that contradicts another active one of the same owner and applies_to over
    overlapping years (a different online cap or pro-rating); the message names the other policy and its years."""
    if not policy.active:
        return
    others = (
        HoursPolicy.objects.dangerously_all()
        .select_for_update()
        .filter(owner=policy.owner, applies_to=policy.applies_to, active=True)
        .exclude(pk=policy.pk)
        .order_by("valid_from", "pk")
    )
    for other in others:
        if not _overlaps(policy, other):
            continue
        differences = []  # different required hours are no contradiction: the strictest wins
        if (policy.online_cap is None) != (other.online_cap is None) or (
            policy.online_cap is not None and Decimal(policy.online_cap) != other.online_cap
        ):
            differences.append(("online_cap", f"网络学习计入上限不同（{_cap_text(other.online_cap)}）"))
        if policy.pro_rating != other.pro_rating:
            differences.append(("pro_rating", f"年中转入的计算方式不同（{ProRating(other.pro_rating).label}）"))
        if differences:
            field, _ = differences[0]
            what = "、".join(text for _, text in differences)
            raise ValidationError(
                {
                    field: f"与已启用的学时要求“{other.name}”（{policy_years(other)}）相互矛盾："
                    f"适用组织、适用对象相同，年度范围重叠，但{what}。请调整年度范围，或先停用其中一条。"
                }
            )


@service
def policy_save(*, by, policy: HoursPolicy | None = None, reason: str = "", **fields) -> HoursPolicy:
    """Create a policy (`policy=None`) or change one: by work-committee staff over the owner (before and after the
    change); system-wide policies only by the system. Valid years 2000-2100 with valid_to ≥ valid_from; hours in
    steps of 0.5; no contradiction with another active policy (see the module docstring)."""
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise TypeError(f"policy_save does not take {sorted(unknown)}")
    if "owner" in fields:
        fields["owner"] = _resolve_owner(by, fields["owner"])
    if policy is None:
        policy = HoursPolicy()
    else:
        policy = (
            HoursPolicy.objects.dangerously_all()
            .select_for_update(of=("self",))
            .select_related("owner")
            .get(pk=policy.pk)
        )
        _require_manager(by, policy.owner)
    for name, value in fields.items():
        setattr(policy, name, value)
    if isinstance(policy.source, str):
        policy.source = policy.source.strip()
    if isinstance(policy.name, str):
        policy.name = policy.name.strip()
    _require_manager(by, policy.owner)
    _half_steps(policy.required_hours, "required_hours", "年度要求学时")
    _half_steps(policy.online_cap, "online_cap", "网络学习计入上限")
    policy.full_clean()
    _check_years(policy)
    _lock(policy.owner, policy.applies_to)
    _check_no_contradiction(policy)
    set_history(policy, by, reason or ("修改学时要求" if policy.pk else "新增学时要求"))
    policy.save()
    return policy


@service
def policy_set_active(*, by, policy: HoursPolicy, active: bool, reason: str = "") -> HoursPolicy:
    """Switch a policy on (启用) or off (停用) — by whoever may set it, and a system-wide one also by the system
    admin (`Access.can_switch_policy_of`); switching on checks it against the other active policies. Recorded in the
    policy's history with `reason` (who, when, why)."""
    policy = (
        HoursPolicy.objects.dangerously_all().select_for_update(of=("self",)).select_related("owner").get(pk=policy.pk)
    )
    if not access_for(by).can_switch_policy_of(policy.owner):
        _require_manager(by, policy.owner)
    if policy.active == bool(active):
        return policy
    policy.active = bool(active)
    if policy.active:
        _lock(policy.owner, policy.applies_to)
        _check_no_contradiction(policy)
    set_history(policy, by, reason or ("启用学时要求" if policy.active else "停用学时要求"))
    policy.save()
    return policy
