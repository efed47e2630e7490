"""The import page (党员名册导入): upload → every error at once, or a preview → confirm → written. The upload waits
in `core.import_store.UploadStore` between the steps.

The URLs take no path argument (the token travels as a form field or a query parameter).
"""

from __future__ import annotations

import io
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from dangjian.accounts.access import access_for
from dangjian.core.forms import BootstrapFormMixin
from dangjian.core.import_store import UploadStore, max_upload_bytes
from dangjian.core.views_helpers import require
from dangjian.jobs.services import job_start
from dangjian.members.imports import (
    PREVIEW_ROWS,
    TEMPLATE_COLUMNS,
    XLSX_CONTENT_TYPE,
    ImportFileError,
    ImportResult,
    RowIssue,
    annotated_copy,
    import_members,
    template_workbook,
)

MAX_ERRORS_SHOWN = 500
MAX_WARNINGS_SHOWN = 200


class ImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label="名册文件（.xlsx、.xls 或 .csv）",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )
    update = forms.BooleanField(
        label="更新已有党员：按公民身份号码匹配已登记的党员，只修改不同的字段（未登记的作为新党员导入）",
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(f"文件过大：不能超过 {max_upload_bytes() / (1024 * 1024):.0f} MB。")
        return upload


def _require_importer(request) -> None:
    require(access_for(request.user).can_edit_members, "您的角色无权导入党员信息。")


def _context(result: ImportResult | None, **extra) -> dict:
    context = {
        "columns": TEMPLATE_COLUMNS,
        "result": result,
        "preview_rows": PREVIEW_ROWS,
        "max_errors": MAX_ERRORS_SHOWN,
    }
    if result is not None:
        context.update(
            errors=result.errors[:MAX_ERRORS_SHOWN],
            row_errors=any(e.row is not None for e in result.errors),
            warnings=result.warnings[:MAX_WARNINGS_SHOWN],
        )
    context.update(extra)
    return context


@login_required
def member_import(request):
    """GET: the form. POST with a file: check it (nothing written) and show every error, or a preview.
    POST with `token` and `confirm`: import the file checked before. POST with `token` and `cancel`: drop it."""
    _require_importer(request)
    store = UploadStore(request.user)
    if request.method == "POST" and request.POST.get("token"):
        token = request.POST["token"]
        if "cancel" in request.POST:
            store.delete(token)
            return redirect("members:import")
        data, meta = store.load(token)
        if "confirm" not in request.POST:
            # The worksheet chosen from a workbook with several: checked like a new upload (nothing written).
            meta["sheet"] = request.POST.get("sheet", "")[:100] or None
            result = _run(request, data, meta, dry_run=True)
            store.save_errors(token, result.errors, sheet=meta["sheet"] or "", rows=result.rows)
            form = ImportForm(initial={"update": meta["update"]})
            return render(request, "members/import.html", _context(result, form=form, token=token, name=meta["name"]))
        if meta.get("rows", 0) > job_threshold():
            # A large file is imported by a worker; its page shows the progress and the user is notified at the end.
            job = job_start(
                by=request.user, kind="import_members", title=f"导入党员名册：{meta['name']}", params={"token": token}
            )
            return redirect("jobs:detail", pk=job.pk)
        result = _run(request, data, meta, dry_run=False)
        if result.written:
            store.delete(token)
            messages.success(request, result.summary())
            return redirect("members:list")
        store.save_errors(token, result.errors)
        form = ImportForm(initial={"update": meta["update"]})
        return render(request, "members/import.html", _context(result, form=form, token=token, name=meta["name"]))

    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        update = form.cleaned_data["update"]
        data = b"".join(upload.chunks())
        token = store.save(data, name=upload.name, update=update)
        meta = {"name": upload.name, "update": update}
        result = _run(request, data, meta, dry_run=True)
        store.save_errors(token, result.errors, rows=result.rows)
        if result.errors and not any(e.row is not None for e in result.errors) and not result.sheet_names:
            store.delete(token)  # a refused file: nothing to annotate, nothing to confirm
            token = ""
        return render(request, "members/import.html", _context(result, form=form, token=token, name=upload.name))
    return render(request, "members/import.html", _context(None, form=form))


def job_threshold() -> int:
    """Files with more data rows than this are imported as a background job (DANGJIAN_JOB_THRESHOLD_ROWS)."""
    return int(getattr(settings, "DANGJIAN_JOB_THRESHOLD_ROWS", 2000))


def _run(request, data: bytes, meta: dict, *, dry_run: bool) -> ImportResult:
    return import_members(
        io.BytesIO(data),
        name=meta["name"],
        by=request.user,
        update=bool(meta["update"]),
        dry_run=dry_run,
        sheet=meta.get("sheet") or None,
    )


@login_required
@require_GET
def member_import_template(request):
    """The import template (.xlsx)."""
    _require_importer(request)
    response = HttpResponse(template_workbook(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, "党员名册导入模板.xlsx")
    return response


@login_required
@require_GET
def member_import_errors(request):
    """The user's refused file with an added 错误说明 column (?token=…). Without a token: back to the form."""
    _require_importer(request)
    token = request.GET.get("token", "")
    if not token:
        return redirect(reverse("members:import"))
    store = UploadStore(request.user)
    data, meta = store.load(token)
    errors = [RowIssue(row, column, message) for row, column, message in meta.get("errors", [])]
    out = io.BytesIO()
    try:
        annotated_copy(io.BytesIO(data), errors, out, name=meta["name"], sheet=meta.get("sheet") or None)
    except ImportFileError:
        raise Http404("该文件无法生成错误说明。") from None
    out.seek(0)
    stem = Path(meta["name"]).stem or "导入文件"
    return FileResponse(out, as_attachment=True, filename=f"{stem}_错误说明.xlsx", content_type=XLSX_CONTENT_TYPE)
