"""The audit trail as the audit admin reads it: each record as a Chinese sentence (who, which action, on what, which
fields), with names looked up in batches and the time in local time (settings.TIME_ZONE).

The action names are `AuditAction`'s labels (audit/models.py); the sentence of each action is `PHRASES` below, one
per action. A page of records costs a fixed number of queries whatever its size: one for the accounts named (actors
and the accounts acted on), one per kind of object on the page (its name field, or only which ids still exist).
An object that no longer exists, or whose model is unknown, is named by its model's verbose_name and id. Changed
fields are named by their verbose_name, never with their values.

The audit admin reads the whole trail by design (三员分立: the trail is theirs, whatever the organization), so
the lookups of names say `dangerously_all()` where a model has a scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dangjian.accounts.models import User
from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent, AuditResult

# The fields that name an object, in order of preference (the first one a model has is read).
NAME_FIELDS = ("name", "title", "topic", "full_name")
USER_LABEL = "accounts.user"
ORGANIZATION_LABEL = "orgs.organization"
MEMBER_LABEL = "members.member"
NO_ACTOR = "系统"
TIME_FORMAT = "%Y-%m-%d %H:%M"

# The sentence of each action. {who}: the actor; {obj}: the object with its kind (党员“张三”); {name}: what the record
# names (a page, an export, the username typed at the login form); {target}: the account acted on; {more}: what
# follows (the fields changed, the rows exported …), already with its punctuation.
PHRASES: dict[str, str] = {
    AuditAction.LOGIN_SUCCESS: "{who}登录系统{more}",
    AuditAction.LOGIN_FIRST_FACTOR: "{who}通过口令验证，待输入动态口令",
    AuditAction.LOGIN_FAILURE: "以账号“{name}”登录失败",
    AuditAction.LOGOUT: "{who}退出登录",
    AuditAction.LOCKOUT: "账号“{name}”因多次登录失败被锁定",
    AuditAction.SESSION_EXPIRED: "{who}的会话超时，已退出",
    AuditAction.PERMISSION_DENIED: "{who}访问“{name}”被拒绝（越权操作）",
    AuditAction.OUT_OF_SCOPE: "{who}查询管理范围外的{obj}被拒绝",
    AuditAction.CREATE: "{who}新建了{obj}",
    AuditAction.UPDATE: "{who}{verb}了{obj}{more}",
    AuditAction.STATUS_CHANGE: "{who}变更了{obj}{more}",
    AuditAction.EXPORT: "{who}导出了{name}{more}",
    AuditAction.VIEW_FULL_ID: "{who}查看了{obj}的完整身份证号",
    AuditAction.GRANT: "{who}授予{target}{more}",
    AuditAction.REVOKE: "{who}撤销了{target}{more}",
    AuditAction.POLICY_CHANGE: "{who}变更了安全策略",
    AuditAction.PASSWORD_CHANGE: "{who}修改了自己的密码",
    AuditAction.OTP_ENROLL: "{who}绑定了动态口令",
    AuditAction.OTP_FAILURE: "{who}输入的动态口令错误",
    AuditAction.OTP_SUCCESS: "{who}通过动态口令验证",
    AuditAction.OTP_RESET: "{who}重置了{target}的动态口令",
    AuditAction.PASSWORD_SET: "{who}设置了{target}的密码",
    AuditAction.ACCOUNT_CREATE: "{who}新建了账号{target}",
    AuditAction.ACCOUNT_UPDATE: "{who}修改了账号{target}{more}",
    AuditAction.DELETE: "{who}删除了{obj}{more}",
    AuditAction.UPLOAD: "{who}为{obj}上传了文件",
    AuditAction.IMPORT: "{who}进行了{name}{more}",
    AuditAction.SEARCH: "{who}按身份证号或手机号查询了{name}",
    AuditAction.LOOKUP_LIMITED: "{who}核验身份证号的次数超过每日上限，被拒绝",
    AuditAction.SECURITY_ALERT: "安全告警：{who}{name}",
    AuditAction.ACCOUNT_DEACTIVATE: "{who}停用了账号{target}",
    AuditAction.EMERGENCY_USE: "应急账号{who}访问了“{name}”",
    AuditAction.AUDIT_PURGE: "{who}清理了过期审计记录{more}",
    AuditAction.RESTORE: "{who}从备份“{name}”恢复了数据库{more}",
    AuditAction.RESTORE_DRILL: "{who}用备份“{name}”进行了恢复演练{more}",
}
# Actions whose sentence already says that they failed or were refused.
FAILING_ACTIONS = frozenset(
    {
        AuditAction.LOGIN_FAILURE,
        AuditAction.LOCKOUT,
        AuditAction.PERMISSION_DENIED,
        AuditAction.OUT_OF_SCOPE,
        AuditAction.OTP_FAILURE,
        AuditAction.LOOKUP_LIMITED,
        AuditAction.SECURITY_ALERT,
    }
)
# Object kinds that are not models.
OTHER_KINDS = {"url": "页面"}


@dataclass(frozen=True)
class EventLine:
    """One record as the page and the export show it."""

    event: AuditEvent
    at: str  # local time, 2026-12-07 14:03
    who: str
    action: str  # the Chinese action name
    result: str
    object_kind: str  # the model's verbose_name
    object_name: str
    sentence: str


def local_time(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime(TIME_FORMAT)


def _model(label: str) -> type[models.Model] | None:
    if label.count(".") != 1:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _rows(model: type[models.Model]) -> models.QuerySet:
    manager = model._default_manager
    dangerously_all = getattr(manager, "dangerously_all", None)
    return dangerously_all() if dangerously_all is not None else manager.all()


def _pk(model: type[models.Model], value) -> object | None:
    try:
        return model._meta.pk.to_python(value) if model._meta.pk is not None else None
    except (ValidationError, TypeError, ValueError):
        return None


def _name_field(model: type[models.Model]) -> str | None:
    names = {field.name for field in model._meta.concrete_fields}
    return next((name for name in NAME_FIELDS if name in names), None)


def _user_name(full_name: str, username: str) -> str:
    return f"{full_name}（{username}）" if full_name else username


def _detail(event: AuditEvent) -> dict:
    return event.detail if isinstance(event.detail, dict) else {}


class Names:
    """The names a batch of records refers to, looked up once for the whole batch."""

    def __init__(self, events: Sequence[AuditEvent]):
        user_ids: set[int] = set()
        usernames: set[str] = set()
        wanted: dict[str, set] = defaultdict(set)
        for event in events:
            detail = _detail(event)
            if event.actor_id is not None:
                user_ids.add(event.actor_id)
            if event.object_type == USER_LABEL and event.object_id.isdigit():
                user_ids.add(int(event.object_id))
            if event.object_type and event.object_id:
                wanted[event.object_type].add(event.object_id)
            if isinstance(detail.get("user"), str):  # role grants name the account by username
                usernames.add(detail["user"])
            if isinstance(detail.get("organization"), int):
                wanted[ORGANIZATION_LABEL].add(str(detail["organization"]))
            if isinstance(detail.get("member"), int):
                wanted[MEMBER_LABEL].add(str(detail["member"]))
        self.users: dict[int, str] = {}
        self.by_username: dict[str, str] = {}
        if user_ids or usernames:
            for pk, username, full_name in User.objects.filter(
                Q(pk__in=user_ids) | Q(username__in=usernames)
            ).values_list("pk", "username", "full_name"):
                self.users[pk] = self.by_username[username] = _user_name(full_name, username)
        # label -> {str(pk): name ("" when the object exists but has no name field)}
        self.objects: dict[str, dict[str, str]] = {}
        for label, ids in wanted.items():
            model = _model(label)
            if model is None or label == USER_LABEL:
                continue
            keys = {key for key in (_pk(model, value) for value in ids) if key is not None}
            if not keys:
                self.objects[label] = {}
                continue
            field = _name_field(model)
            rows = _rows(model).filter(pk__in=keys)
            if field is None:
                self.objects[label] = {str(pk): "" for pk in rows.values_list("pk", flat=True)}
            else:
                self.objects[label] = {str(pk): str(name or "") for pk, name in rows.values_list("pk", field)}

    def user(self, pk: int | None, username: str = "") -> str:
        if pk is not None and pk in self.users:
            return self.users[pk]
        return username

    def actor(self, event: AuditEvent) -> str:
        return self.user(event.actor_id, event.actor_username) or NO_ACTOR

    def object_name(self, event: AuditEvent) -> tuple[str, bool]:
        """The object's bare name, and whether the object is known (exists, or is no model)."""
        label, pk = event.object_type, event.object_id
        if label == USER_LABEL:
            if pk:
                name = self.users.get(int(pk)) if pk.isdigit() else None
                return (name or event.object_repr, name is not None)
            return event.object_repr, True
        if not pk or _model(label) is None:
            return event.object_repr, True
        found = self.objects.get(label, {})
        if pk not in found:
            return "", False
        return found[pk] or event.object_repr, True

    def named(self, label: str, pk) -> str:
        """An object referred to by the detail (an organization, a member), or its kind and id."""
        name = self.objects.get(label, {}).get(str(pk), "")
        model = _model(label)
        kind = str(model._meta.verbose_name) if model is not None else label
        return f"{kind}“{name}”" if name else f"{kind}（#{pk}）"


def object_kind(label: str) -> str:
    model = _model(label)
    if model is not None:
        return str(model._meta.verbose_name)
    return OTHER_KINDS.get(label, label)


def _phrase(kind: str, name: str, known: bool, object_id: str) -> str:
    if known and name:
        return f"{kind}“{name}”" if kind else f"“{name}”"
    if object_id:
        return f"{kind}（#{object_id}）"
    return kind


def field_names(label: str, names: Iterable) -> list[str]:
    """The verbose names of a model's fields (a name the model does not know stays as it is)."""
    model = _model(label)
    shown = []
    for name in names:
        try:
            field = model._meta.get_field(str(name)) if model is not None else None
        except FieldDoesNotExist:
            field = None
        shown.append(str(getattr(field, "verbose_name", name)))
    return shown


def _choice_label(model: type[models.Model] | None, values: Sequence) -> tuple[str, list[str]] | None:
    """The field whose choices hold every value, with their labels: a status change's 党籍状态 or 人员类别."""
    if model is None:
        return None
    for field in model._meta.concrete_fields:
        choices = dict(field.flatchoices) if field.choices else {}
        if choices and all(value in choices for value in values):
            return str(field.verbose_name), [str(choices[value]) for value in values]
    return None


def _more(event: AuditEvent, names: Names) -> tuple[str, str]:
    """What follows the object in the sentence, and the verb of an update (修改 or 更正)."""
    detail = _detail(event)
    action = event.action
    verb = "更正" if detail.get("correction") else "修改"
    fields = detail.get("fields")
    if action in (AuditAction.UPDATE, AuditAction.ACCOUNT_UPDATE) and isinstance(fields, list) and fields:
        return "的" + "、".join(field_names(event.object_type, fields)), verb
    if action == AuditAction.STATUS_CHANGE and "from" in detail and "to" in detail:
        found = _choice_label(_model(event.object_type), [detail["from"], detail["to"]])
        if found is not None:
            field, (old, new) = found
            return f"的{field}（{old}→{new}）", verb
        return "的状态", verb
    if action in (AuditAction.GRANT, AuditAction.REVOKE):
        role = detail.get("role")
        role_label = Role(role).label if role in Role.values else str(role or "")
        where = ""
        if detail.get("organization") is not None:
            where = f"（{names.named(ORGANIZATION_LABEL, detail['organization'])}）"
        return f"的“{role_label}”角色{where}", verb
    if action == AuditAction.EXPORT and isinstance(detail.get("rows"), int):
        return f"（{detail['rows']} 行）", verb
    if action == AuditAction.IMPORT and isinstance(detail.get("rows"), int):
        return f"（{detail['rows']} 行）", verb
    if action == AuditAction.AUDIT_PURGE and isinstance(detail.get("deleted"), int):
        return f"（{detail['deleted']} 条）", verb
    if action in (AuditAction.RESTORE, AuditAction.RESTORE_DRILL):
        outcome = {True: "，通过", False: "，未通过"}.get(detail.get("passed"), "")
        return f"（服务器用户 {detail.get('os_user') or '未知'}{outcome}）", verb
    if action == AuditAction.DELETE and "attachment" in detail:
        return "的一个附件", verb
    if action == AuditAction.LOGIN_SUCCESS and detail.get("second_factor"):
        return "（已通过动态口令验证）", verb
    if action == AuditAction.UPDATE and "event" in detail and "member" in detail:
        return f"（{names.named(MEMBER_LABEL, detail['member'])}）", verb
    return "", verb


def describe(events: Sequence[AuditEvent]) -> list[EventLine]:
    """The records as lines, at a fixed number of queries (see the module's docstring)."""
    names = Names(events)
    lines = []
    for event in events:
        kind = object_kind(event.object_type) if event.object_type else ""
        name, known = names.object_name(event)
        more, verb = _more(event, names)
        detail = _detail(event)
        target = ""
        if event.object_type == USER_LABEL:
            target = name or _phrase("账号", "", False, event.object_id)
        if event.action in (AuditAction.GRANT, AuditAction.REVOKE):
            username = str(detail.get("user", ""))
            target = names.by_username.get(username, username)
        phrase = PHRASES.get(event.action, "{who}：{action} {obj}{more}")
        sentence = phrase.format(
            who=names.actor(event),
            obj=_phrase(kind, name, known, event.object_id),
            name=name or event.object_repr,
            target=target,
            more=more,
            verb=verb,
            action=event.get_action_display(),
        )
        if event.result != AuditResult.SUCCESS and event.action not in FAILING_ACTIONS:
            sentence += f"（{event.get_result_display()}）"
        lines.append(
            EventLine(
                event=event,
                at=local_time(event.at),
                who=names.actor(event),
                action=event.get_action_display(),
                result=event.get_result_display(),
                object_kind=kind,
                object_name=name if known else "",
                sentence=sentence + "。",
            )
        )
    return lines


def described(queryset: models.QuerySet[AuditEvent], *, chunk: int = 1000) -> Iterator[EventLine]:
    """Every record of `queryset` (oldest first) as lines, read and named a chunk at a time, for an export."""
    batch: list[AuditEvent] = []
    for event in queryset.order_by("at", "id").iterator(chunk_size=chunk):
        batch.append(event)
        if len(batch) == chunk:
            yield from describe(batch)
            batch = []
    if batch:
        yield from describe(batch)


EXPORT_HEADERS = ["时间", "操作人", "来源IP", "操作", "结果", "对象类型", "对象ID", "对象", "说明", "请求ID"]


def export_lines(queryset: models.QuerySet[AuditEvent]) -> Iterator[list]:
    """The page's export: local time, the Chinese action and result, the object's kind and name, the sentence."""
    for line in described(queryset):
        event = line.event
        yield [
            line.at,
            line.who,
            event.source_ip or "",
            line.action,
            line.result,
            line.object_kind,
            event.object_id,
            line.object_name,
            line.sentence,
            event.request_id,
        ]
