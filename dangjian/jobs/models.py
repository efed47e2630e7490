"""A background job (后台任务): work that can outlast a request — a large import, a district's export — run by a
worker (Celery; eagerly in-process without a broker), with who asked, what, its status, progress, log and result."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "未完成"


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


class JobQuerySet(models.QuerySet["Job"]):
    def visible_to(self, user) -> JobQuerySet:
        """A job is its requester's own: nobody else sees its log or result."""
        user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
        return self.filter(created_by_id=user_id) if user_id is not None else self.none()

    def dangerously_all(self) -> JobQuerySet:
        return self.all()


class Job(models.Model):
    kind = models.CharField("任务类型", max_length=40)
    title = models.CharField("任务", max_length=200)
    params = models.JSONField("参数", default=dict, blank=True)
    status = models.CharField("状态", max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField("进度", default=0)
    log = models.TextField("日志", blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    result_url = models.CharField("结果链接", max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs", verbose_name="发起人"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="job_owner_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
