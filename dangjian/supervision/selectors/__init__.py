"""Reads of the off-campus institutions' party building, one module per seam: `coverage` (两个全覆盖), `visits`
(monthly visits and the instructors' yearly figures), `points` (ranking and red list), `todo` (the to-do items)."""
