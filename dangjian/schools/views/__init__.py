"""Pages of the party-school area, one module per seam; each module holds its own `urlpatterns`."""
