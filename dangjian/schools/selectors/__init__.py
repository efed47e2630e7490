"""Read-side computations of the party-school area, one module per seam (schools, catalog, booking,
evaluation)."""
