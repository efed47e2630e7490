"""Pages of the party-school area, one module per seam; the URLs are declared in `schools/urls.py`."""
