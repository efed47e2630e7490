"""Reads of committee terms and organization setup, one module per seam: `policies` (which term and setup rules
apply), `terms` (terms ending, overdue re-elections, an organization's terms), `setup` (setup flags and the
quarterly / half-year setup report), `todo` (the to-do items of both)."""
