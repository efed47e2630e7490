"""Forms of the party-school area, one module per seam."""
