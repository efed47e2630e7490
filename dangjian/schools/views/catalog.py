"""Pages of the party-school area: catalog."""

from __future__ import annotations

urlpatterns: list = []
