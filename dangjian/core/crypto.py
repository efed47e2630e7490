"""Encryption at rest of personal identifiers (个人信息保护法第五十一条; GB/T 22239-2019 8.1.4.8).

Values are sealed with AES-256-GCM under a key identified by a short key id, so keys can be rotated:
the first key is used to encrypt, every listed key can decrypt, and `manage.py rotate_field_keys`
re-seals old values under the current key. Exact lookups and uniqueness use a keyed hash (HMAC-SHA256,
the "blind index") under a separate index key, so the database never needs the clear value.

Keys never live in the database or the repository. They come from DANGJIAN_FIELD_KEYS / DANGJIAN_INDEX_KEY
(environment) or from the file named by DANGJIAN_KEY_FILE. A development install without either gets a
key file generated under var/keys/ (git-ignored); a production install refuses to start without keys.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TOKEN_PREFIX = "enc1"
_NONCE_BYTES = 12


@dataclass(frozen=True)
class KeyRing:
    field_keys: tuple[tuple[str, bytes], ...]  # (key id, 32-byte key); the first encrypts
    index_key: bytes

    @property
    def current(self) -> tuple[str, bytes]:
        return self.field_keys[0]

    def key(self, key_id: str) -> bytes:
        for kid, key in self.field_keys:
            if kid == key_id:
                return key
        raise ImproperlyConfigured(f"缺少密钥 {key_id}：无法解密该字段。请检查 DANGJIAN_FIELD_KEYS。")


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{what} 不是有效的 base64 编码。") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{what} 必须是 32 字节（256 位）密钥。")
    return key


def parse_keys(field_keys: str, index_key: str) -> KeyRing:
    """Parse 'kid:base64,kid:base64' field keys and a base64 index key."""
    pairs = []
    for item in field_keys.split(","):
        if not item.strip():
            continue
        kid, _, encoded = item.strip().partition(":")
        if not kid or not encoded:
            raise ImproperlyConfigured("DANGJIAN_FIELD_KEYS 格式应为 '密钥ID:base64密钥'，多个以逗号分隔。")
        pairs.append((kid, _decode_key(encoded, f"字段密钥 {kid}")))
    if not pairs:
        raise ImproperlyConfigured("未配置字段加密密钥 DANGJIAN_FIELD_KEYS。")
    return KeyRing(field_keys=tuple(pairs), index_key=_decode_key(index_key, "索引密钥 DANGJIAN_INDEX_KEY"))


def _read_key_file(path: Path) -> KeyRing:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, value = line.strip().partition("=")
        if name and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return parse_keys(values.get("DANGJIAN_FIELD_KEYS", ""), values.get("DANGJIAN_INDEX_KEY", ""))


def generate_key_file(path: Path) -> None:
    """Write a new key file (mode 0600) with one field key and one index key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    field = base64.b64encode(secrets.token_bytes(32)).decode()
    index = base64.b64encode(secrets.token_bytes(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# 党建云字段加密密钥：切勿提交到代码库或与数据库备份放在一起。\n")
        handle.write(f"DANGJIAN_FIELD_KEYS=k1:{field}\nDANGJIAN_INDEX_KEY={index}\n")


@functools.cache
def keyring() -> KeyRing:
    env_field = os.environ.get("DANGJIAN_FIELD_KEYS", "")
    if env_field:
        return parse_keys(env_field, os.environ.get("DANGJIAN_INDEX_KEY", ""))
    path = Path(settings.DANGJIAN_KEY_FILE)
    if not path.exists():
        if settings.PRODUCTION:
            raise ImproperlyConfigured("生产环境必须配置 DANGJIAN_FIELD_KEYS 或 DANGJIAN_KEY_FILE。")
        try:
            generate_key_file(path)
        except FileExistsError:  # another process made it first
            pass
    return _read_key_file(path)


def encrypt(plaintext: str) -> str:
    kid, key = keyring().current
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), kid.encode())
    return f"{TOKEN_PREFIX}:{kid}:{base64.b64encode(nonce + sealed).decode()}"


def is_token(value: str) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX + ":")


def token_key_id(token: str) -> str:
    return token.split(":", 2)[1]


def decrypt(token: str) -> str:
    _, kid, encoded = token.split(":", 2)
    raw = base64.b64decode(encoded)
    return AESGCM(keyring().key(kid)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], kid.encode()).decode("utf-8")


def blind_index(value: str) -> str:
    """The keyed hash used for exact lookup and uniqueness of an encrypted value."""
    return hmac.new(keyring().index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()
