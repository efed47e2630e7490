"""Files chosen on a form that was refused, kept for its next submit (已选照片保留).

A form with photos or attachments that fails — a field left empty, a rule the service refuses — is shown again with
everything the user entered. A browser never refills a file input, so the files that passed their check are kept on
the server: sealed in the user's own `core.import_store.UploadStore` (expiring after DANGJIAN_IMPORT_TTL_SECONDS),
each under an opaque random token that the re-rendered form carries in a hidden field beside its thumbnail and a
"移除" checkbox. The next submit hands the kept files to the service together with any newly chosen ones; the
service checks them again like any upload.

A token is only ever looked up in the requesting user's own store and only if it was kept for the same field: another
user's token, an import's token, an expired or a made-up one is ignored, never an error and never a file. A client
sends tokens, never a path.

    kept = KeptUploads(request, form, "photos", allowed=PHOTO_EXTENSIONS, label="现场照片", limit=10)
    if request.method == "POST" and form.is_valid():
        saved = submit(form, lambda data: service(..., photos=kept.with_new(data["photos"])))
        if saved is not FAILED:
            kept.discard()
            return redirect(...)
    kept.keep_refused()  # a refused POST: keep what passed its check, for the next submit
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from dangjian.core.import_store import UploadStore
from dangjian.core.uploads import ATTACHMENT_EXTENSIONS, check_file_upload

IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}
# What an unknown, expired or foreign token's thumbnail shows: a grey square, the same for all of them.
PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
    b'<rect width="96" height="96" fill="#e9ecef"/></svg>'
)


def _extension(name: str) -> str:
    return PurePath(name or "").suffix.lower().lstrip(".")


@dataclass
class KeptFile:
    """One kept file: its token (the hidden field's value), its name and size as the user chose it."""

    token: str
    name: str
    size: int
    data: bytes = field(repr=False)

    @property
    def is_image(self) -> bool:
        return _extension(self.name) in IMAGE_TYPES

    @property
    def thumbnail_url(self) -> str:
        return f"{reverse('core:kept_upload')}?token={self.token}"

    def as_upload(self) -> SimpleUploadedFile:
        content_type = IMAGE_TYPES.get(_extension(self.name), "application/octet-stream")
        return SimpleUploadedFile(self.name, self.data, content_type=content_type)


def _load(store: UploadStore, token: str, purpose: str) -> KeptFile | None:
    """The user's kept file under `token` for `purpose`, or None (unknown, expired, another's, or not kept)."""
    try:
        data, meta = store.load(token)
    except Http404:
        return None
    if meta.get("kept_for") != purpose:
        return None
    return KeptFile(token=token, name=meta.get("name") or "file", size=len(data), data=data)


class KeptUploads:
    """The kept files of one file field of a form, for one request (see the module's docstring).

    On a POST the tokens the form sent back (`<field>__kept`) are looked up in the user's store, those ticked for
    removal (`<field>__drop`) are deleted, and the rest wait in `files`. The form gets `kept_uploads[field]` (this
    object) for its template (`includes/upload_field.html`)."""

    def __init__(
        self,
        request,
        form,
        field_name: str,
        *,
        label: str,
        allowed: tuple[str, ...] = ATTACHMENT_EXTENSIONS,
        limit: int = 10,
    ):
        self.request = request
        self.form = form
        self.field_name = field_name
        self.label = label
        self.allowed = allowed
        self.limit = limit
        self.purpose = f"{request.resolver_match.view_name if request.resolver_match else ''}:{field_name}"
        self.store = UploadStore(request.user)
        self.files: list[KeptFile] = []
        if not hasattr(form, "kept_uploads"):
            form.kept_uploads = {}
        form.kept_uploads[field_name] = self
        if request.method == "POST":
            self._read_back()

    @property
    def kept_name(self) -> str:
        return f"{self.field_name}__kept"

    @property
    def drop_name(self) -> str:
        return f"{self.field_name}__drop"

    def _read_back(self) -> None:
        dropped = set(self.request.POST.getlist(self.drop_name))
        tokens = list(dict.fromkeys(self.request.POST.getlist(self.kept_name)))[: self.limit]
        for token in tokens:
            kept = _load(self.store, token, self.purpose)
            if kept is None:
                continue
            if token in dropped:
                self.store.delete(token)
                continue
            self.files.append(kept)

    def with_new(self, new_files) -> list:
        """The files for the service: those newly chosen, then the kept ones."""
        return [*(new_files or ()), *(kept.as_upload() for kept in self.files)]

    def discard(self) -> None:
        """The form was saved: the kept files are the record's now (or no longer wanted)."""
        for kept in self.files:
            self.store.delete(kept.token)
        self.files = []

    def keep_refused(self) -> None:
        """The form was refused: keep the newly chosen files that pass their check (up to `limit` in all); one that
        fails it is not kept, and its reason is shown beside the field if nothing else says it already."""
        if self.request.method != "POST":
            return
        for upload in self.request.FILES.getlist(self.field_name):
            if not upload or len(self.files) >= self.limit:
                continue
            try:
                check_file_upload(
                    upload, field=self.field_name, label=f"{self.label}“{upload.name}”", allowed=self.allowed
                )
            except ValidationError as exc:
                shown = self.form.errors.get(self.field_name, []) if self.form.is_bound else []
                for message in exc.message_dict.get(self.field_name, []):
                    if message not in shown:
                        self.form.add_error(self.field_name, message)
                continue
            upload.seek(0)
            data = b"".join(upload.chunks())
            token = self.store.save(data, name=upload.name, kept_for=self.purpose)
            self.files.append(KeptFile(token=token, name=upload.name[:200], size=len(data), data=data))


@login_required
@require_GET
def kept_upload(request):
    """A kept image, shown as the thumbnail on the re-rendered form — only from the requesting user's own store.
    Any token that is not the user's kept image (unknown, expired, another user's) answers the same grey square."""
    store = UploadStore(request.user)
    token = request.GET.get("token", "")
    try:
        data, meta = store.load(token)
    except Http404:
        data, meta = b"", {}
    content_type = IMAGE_TYPES.get(_extension(meta.get("name", "")))
    if not meta.get("kept_for") or content_type is None:
        response = HttpResponse(PLACEHOLDER_SVG, content_type="image/svg+xml")
    else:
        response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response
