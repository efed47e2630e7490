"""The hours import page (学时导入): upload a list of hours earned elsewhere → every error at once, or a preview →
confirm → credited. The upload waits sealed in `core.import_store.UploadStore` between the steps."""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from dangjian.accounts.access import access_for
from dangjian.core.forms import BootstrapFormMixin
from dangjian.core.import_store import UploadStore, max_upload_bytes
from dangjian.core.views_helpers import require
from dangjian.training.services.hours_import import NOT_IMPORTER, HoursImportResult, import_hours, import_roots

MAX_ERRORS_SHOWN = 500


class HoursImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label="学时文件（.xlsx、.xls 或 .csv）",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )
    source = forms.CharField(
        label="来源",
        max_length=100,
        required=False,
        help_text="文件中没有“来源”列（或该列为空）时使用，如“省干部网络学院”“区委党校”。",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(f"学时文件过大：不能超过 {max_upload_bytes() / (1024 * 1024):.0f} MB。")
        return upload


def _run(request, data: bytes, meta: dict, *, dry_run: bool) -> HoursImportResult:
    return import_hours(
        io.BytesIO(data),
        name=meta["name"],
        by=request.user,
        source=meta.get("source") or "",
        sheet=meta.get("sheet") or None,
        dry_run=dry_run,
    )


def _page(request, result, form, *, token="", name=""):
    context = {
        "form": form,
        "result": result,
        "token": token,
        "name": name,
        "errors": result.errors[:MAX_ERRORS_SHOWN] if result else [],
        "max_errors": MAX_ERRORS_SHOWN,
    }
    return render(request, "training/hours/import.html", context)


@login_required
def hours_import(request):
    """GET: the form. POST with a file: check it (nothing written). POST with `token`: `confirm` credits the file
    checked before, `cancel` drops it, a `sheet` checks that worksheet of a workbook with several."""
    access = access_for(request.user)
    require(access.system or bool(import_roots(access)), NOT_IMPORTER)
    store = UploadStore(request.user)
    if request.method == "POST" and request.POST.get("token"):
        token = request.POST["token"]
        if "cancel" in request.POST:
            store.delete(token)
            return redirect("training:hours_import")
        data, meta = store.load(token)
        form = HoursImportForm(initial={"source": meta.get("source", "")})
        if "confirm" not in request.POST:
            meta["sheet"] = request.POST.get("sheet", "")[:100] or None
            result = _run(request, data, meta, dry_run=True)
            store.save_errors(token, result.errors, sheet=meta["sheet"] or "")
            return _page(request, result, form, token=token, name=meta["name"])
        result = _run(request, data, meta, dry_run=False)
        if result.written:
            store.delete(token)
            note = f"，已导入过的 {result.skipped} 条未重复导入" if result.skipped else ""
            messages.success(request, f"{result.summary()}{note}。")
            return redirect("training:hours_import")
        return _page(request, result, form, token=token, name=meta["name"])
    form = HoursImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = b"".join(upload.chunks())
        source = form.cleaned_data["source"]
        token = store.save(data, name=upload.name, source=source)
        result = _run(request, data, {"name": upload.name, "source": source}, dry_run=True)
        if result.errors and not result.sheet_names:
            store.delete(token)  # nothing to confirm: a corrected file is uploaded again
            token = ""
        return _page(request, result, form, token=token, name=upload.name)
    return _page(request, None, form)
