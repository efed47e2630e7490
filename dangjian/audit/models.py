"""The audit trail (安全审计记录): append-only, kept at least the retention period (GB/T 22239-2019 8.1.4.3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    LOGIN_SUCCESS = "login_success", "登录成功"
    # The password was right but the second factor is still due: the login is not complete yet.
    LOGIN_FIRST_FACTOR = "login_first_factor", "口令验证通过（待动态口令）"
    LOGIN_FAILURE = "login_failure", "登录失败"
    LOGOUT = "logout", "退出登录"
    LOCKOUT = "lockout", "账号锁定"
    SESSION_EXPIRED = "session_expired", "会话超时"
    PERMISSION_DENIED = "permission_denied", "越权操作被拒绝"
    OUT_OF_SCOPE = "out_of_scope", "范围外查询"
    CREATE = "create", "新建"
    UPDATE = "update", "修改"
    STATUS_CHANGE = "status_change", "状态变更"
    EXPORT = "export", "导出"
    VIEW_FULL_ID = "view_full_id", "查看完整身份证号"
    GRANT = "grant", "授予角色"
    REVOKE = "revoke", "撤销角色"
    POLICY_CHANGE = "policy_change", "安全策略变更"
    PASSWORD_CHANGE = "password_change", "修改密码"
    OTP_ENROLL = "otp_enroll", "绑定动态口令"
    OTP_FAILURE = "otp_failure", "动态口令错误"
    OTP_SUCCESS = "otp_success", "动态口令验证通过"
    OTP_RESET = "otp_reset", "重置他人动态口令"
    PASSWORD_SET = "password_set", "设置他人密码"
    ACCOUNT_CREATE = "account_create", "新建账号"
    ACCOUNT_UPDATE = "account_update", "修改账号"
    DELETE = "delete", "删除"
    UPLOAD = "upload", "上传文件"
    IMPORT = "import", "导入"
    SEARCH = "search", "按身份证号或手机号查询"
    LOOKUP_LIMITED = "lookup_limited", "查询次数超限"
    SECURITY_ALERT = "security_alert", "安全告警"
    ACCOUNT_DEACTIVATE = "account_deactivate", "停用账号"
    EMERGENCY_USE = "emergency_use", "应急账号使用"
    AUDIT_PURGE = "audit_purge", "清理过期审计记录"
    RESTORE = "restore", "恢复备份"
    RESTORE_DRILL = "restore_drill", "恢复演练"


class AuditResult(models.TextChoices):
    SUCCESS = "success", "成功"
    FAILURE = "failure", "失败"
    DENIED = "denied", "拒绝"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit record through the application."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs):
        raise AppendOnlyError("审计记录只能追加，不能修改。")

    def delete(self):
        raise AppendOnlyError("审计记录只能追加，不能删除；过期记录请用 audit_purge 命令清理。")

    def _purge(self):
        """Delete for real: only audit.services.audit_purge calls this, after checking the retention."""
        return super().delete()


class AuditEvent(models.Model):
    """One audit record (审计记录): when (UTC), who, from where, what, on which object, with what result.

    The actor is kept by id and username rather than a foreign key, so nothing done to accounts can
    cascade into the trail.
    """

    at = models.DateTimeField("时间（UTC）", default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True, db_index=True)
    actor_username = models.CharField("操作人", max_length=150, blank=True, db_index=True)
    source_ip = models.GenericIPAddressField("来源IP", null=True, blank=True)
    action = models.CharField("操作", max_length=32, choices=AuditAction.choices, db_index=True)
    result = models.CharField("结果", max_length=16, choices=AuditResult.choices, default=AuditResult.SUCCESS)
    object_type = models.CharField("对象类型", max_length=100, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    request_id = models.CharField("请求ID", max_length=36, blank=True, db_index=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("审计记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("审计记录只能追加，不能删除。")


def retention_days() -> int:
    return settings.DANGJIAN_AUDIT_RETENTION_DAYS
