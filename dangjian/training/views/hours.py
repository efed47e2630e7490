"""Pages of training and hours: hours."""

from __future__ import annotations

urlpatterns: list = []
