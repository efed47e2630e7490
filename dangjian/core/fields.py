"""Model fields shared by the area apps."""

from __future__ import annotations

from django.core.exceptions import FieldError
from django.db import models

from dangjian.core import crypto


class EncryptedTextField(models.TextField):
    """A text value stored only as AES-GCM ciphertext (see core.crypto); Python code sees the clear value.

    Ciphertext is randomized, so the column cannot be searched: look values up through the model's
    blind-index field instead. Any lookup but `isnull` is refused rather than silently matching nothing.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value):
        if isinstance(value, str) and crypto.is_token(value):
            return crypto.decrypt(value)
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or crypto.is_token(value):
            return value
        return crypto.encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(f"{self.name} 已加密存储，不能按 {lookup_name} 查询；请使用对应的哈希索引字段。")
        return super().get_lookup(lookup_name)


class BlindIndexField(models.CharField):
    """The keyed hash (HMAC-SHA256) of another field's clear value, for exact lookup and uniqueness.

    Computed in `pre_save`, which Django also runs for `bulk_create`, so no write path can leave it stale.
    """

    def __init__(self, *args, source: str = "", **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        clear = getattr(model_instance, self.source) or ""
        value = crypto.blind_index(clear) if clear else ""
        setattr(model_instance, self.attname, value)
        return value
