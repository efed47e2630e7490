"""Pages of the party-school area: evaluation."""

from __future__ import annotations

urlpatterns: list = []
