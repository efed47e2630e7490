"""Pages of the party-school area: booking."""

from __future__ import annotations

urlpatterns: list = []
