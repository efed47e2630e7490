"""The import page (党员名册导入): upload → every error at once, or a preview → confirm → written.

The uploaded file waits between the preview and the confirmation (and for the download of its annotated copy)
on the filesystem, never in a process's memory, so any of several app processes can serve the next step:
under DANGJIAN_IMPORT_DIR (default VAR_DIR/imports), in a directory of the user's own, under a random token,
sealed with AES-GCM under the current field key (it holds ID numbers) with the user and the token as
associated data. A token is only ever looked up in the requesting user's directory: another user's token is
not found (404). Files are deleted after the import and expire after DANGJIAN_IMPORT_TTL_SECONDS (one hour).

The URLs take no path argument (the token travels as a form field or a query parameter).
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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
from dangjian.core import crypto
from dangjian.core.forms import BootstrapFormMixin
from dangjian.core.views_helpers import require
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

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
MAX_ERRORS_SHOWN = 500
MAX_WARNINGS_SHOWN = 200
_NONCE_BYTES = 12


def _ttl() -> int:
    return int(getattr(settings, "DANGJIAN_IMPORT_TTL_SECONDS", 3600))


def _max_bytes() -> int:
    return int(getattr(settings, "DANGJIAN_UPLOAD_MAX_BYTES", 20 * 1024 * 1024))


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
        if upload.size > _max_bytes():
            raise forms.ValidationError(f"文件过大：不能超过 {_max_bytes() / (1024 * 1024):.0f} MB。")
        return upload


class UploadStore:
    """The user's pending uploads, one pair of files per token: `<token>.bin` (the sealed upload) and
    `<token>.json` (its name, mode, and the errors of its last check)."""

    def __init__(self, user):
        root = Path(getattr(settings, "DANGJIAN_IMPORT_DIR", Path(settings.VAR_DIR) / "imports"))
        self.user_id = int(user.pk)
        self.dir = root / str(self.user_id)

    def _paths(self, token: str) -> tuple[Path, Path]:
        if not TOKEN_PATTERN.match(token or ""):
            raise Http404("导入文件不存在或已过期。")
        return self.dir / f"{token}.bin", self.dir / f"{token}.json"

    def _aad(self, token: str) -> bytes:
        return f"dangjian-import:{self.user_id}:{token}".encode()

    def save(self, data: bytes, *, name: str, update: bool, sheet: str | None = None) -> str:
        self.sweep()
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_urlsafe(32)
        sealed_path, meta_path = self._paths(token)
        kid, key = crypto.keyring().current
        nonce = secrets.token_bytes(_NONCE_BYTES)
        _write_private(sealed_path, nonce + AESGCM(key).encrypt(nonce, data, self._aad(token)))
        meta = {"name": name[:200], "update": update, "sheet": sheet, "kid": kid, "errors": []}
        self._write_meta(meta_path, meta)
        return token

    def load(self, token: str) -> tuple[bytes, dict]:
        """The upload and its metadata; 404 for a token that is not the user's, or has expired."""
        sealed_path, meta_path = self._paths(token)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if time.time() - meta_path.stat().st_mtime > _ttl():
                self.delete(token)
                raise FileNotFoundError(token)
            sealed = sealed_path.read_bytes()
            key = crypto.keyring().key(meta["kid"])
            data = AESGCM(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], self._aad(token))
        except (FileNotFoundError, ValueError, KeyError, InvalidTag):
            raise Http404("导入文件不存在或已过期，请重新上传。") from None
        return data, meta

    def save_errors(self, token: str, errors: list[RowIssue], *, sheet: str | None = None) -> None:
        """Keep the errors of the last check (for the annotated copy) and the worksheet it read."""
        _sealed, meta_path = self._paths(token)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["errors"] = [[e.row, e.column, e.message] for e in errors]
        if sheet is not None:
            meta["sheet"] = sheet
        self._write_meta(meta_path, meta)

    def delete(self, token: str) -> None:
        for path in self._paths(token):
            path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """Delete every user's expired uploads (a cheap scan: a few files per active importer)."""
        root = self.dir.parent
        if not root.is_dir():
            return
        limit = time.time() - _ttl()
        for path in root.glob("*/*"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
            except OSError:
                continue

    @staticmethod
    def _write_meta(path: Path, meta: dict) -> None:
        _write_private(path, json.dumps(meta, ensure_ascii=False).encode("utf-8"))


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` readable by the server's account only, atomically (a reader never sees half a file)."""
    partial = path.with_name(path.name + f".{secrets.token_hex(4)}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)


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
            store.save_errors(token, result.errors, sheet=meta["sheet"] or "")
            form = ImportForm(initial={"update": meta["update"]})
            return render(request, "members/import.html", _context(result, form=form, token=token, name=meta["name"]))
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
        if result.errors:
            store.save_errors(token, result.errors)
            if not any(e.row is not None for e in result.errors) and not result.sheet_names:
                store.delete(token)  # a refused file: nothing to annotate, nothing to confirm
                token = ""
        return render(request, "members/import.html", _context(result, form=form, token=token, name=upload.name))
    return render(request, "members/import.html", _context(None, form=form))


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
