"""Reads of organizational life, one module per seam: `compliance` (duties, periods, records, compliance)."""
