"""Pages of training and hours, one module per seam; each module holds its own `urlpatterns`."""
