"""Pages of training and hours, one module per seam; the URLs are declared in `training/urls.py`."""
