"""Forms of training and hours, one module per seam."""
