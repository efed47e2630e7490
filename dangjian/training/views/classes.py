"""Pages of training and hours: classes."""

from __future__ import annotations

urlpatterns: list = []
