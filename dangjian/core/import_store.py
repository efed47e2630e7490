"""An uploaded file waiting between its check and its confirmation (导入: 上传 → 预览 → 确认), for every import page.

The file waits on the filesystem, never in a process's memory, so any of several app processes can serve the next
step: under DANGJIAN_IMPORT_DIR (default VAR_DIR/imports), in a directory of the user's own, under a random token,
sealed with AES-GCM under the current field key (it holds ID numbers) with the user and the token as associated data.
A token is only ever looked up in the requesting user's directory: another user's token is not found (404). Files are
deleted after the import and expire after DANGJIAN_IMPORT_TTL_SECONDS (one hour).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import Http404

from dangjian.core import crypto

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_NONCE_BYTES = 12


def _ttl() -> int:
    return int(getattr(settings, "DANGJIAN_IMPORT_TTL_SECONDS", 3600))


def max_upload_bytes() -> int:
    return int(getattr(settings, "DANGJIAN_UPLOAD_MAX_BYTES", 20 * 1024 * 1024))


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

    def save(self, data: bytes, *, name: str, update: bool = False, sheet: str | None = None, **extra) -> str:
        self.sweep()
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_urlsafe(32)
        sealed_path, meta_path = self._paths(token)
        kid, key = crypto.keyring().current
        nonce = secrets.token_bytes(_NONCE_BYTES)
        _write_private(sealed_path, nonce + AESGCM(key).encrypt(nonce, data, self._aad(token)))
        meta = {"name": name[:200], "update": update, "sheet": sheet, "kid": kid, "errors": [], **extra}
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

    def save_errors(self, token: str, errors: list, *, sheet: str | None = None, rows: int | None = None) -> None:
        """Keep the errors of the last check (for the annotated copy), the worksheet it read and its row count (a
        large file is imported as a background job)."""
        _sealed, meta_path = self._paths(token)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["errors"] = [[e.row, e.column, e.message] for e in errors]
        if sheet is not None:
            meta["sheet"] = sheet
        if rows is not None:
            meta["rows"] = rows
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
