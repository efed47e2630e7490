"""Writes of the off-campus institutions' party building (docs/rules.md, "Rules and numbers from the seeds"):
institutions, the grid and pairings, instructor appointments and assignments, monthly visits, clues, the three
checks, points and the red list.

Who writes. Committee staff (工委 / 民办教育机构党委 staff: the committee role) over the institution's covering or
managing organization register and update institutions, appoint and assign instructors, record checks, points and
red-list entries, and follow clues up; an instructor records the visits of the institutions assigned to them on the
visit's date, and the clues they find (which they may pass to enforcement themselves). The system access (jobs,
the demo) may do everything. Every function checks everything before writing anything (a clear Chinese message per
field, nothing saved) and is one transaction.

One module per seam: `institutions` (registration and updates), `grid` (grid cells, pairings and their activities),
`instructors` (appointments and assignments), `visits`, `clues`, `checks` (the three checks), `points` (points and the
red list); what they share (who manages an institution, the date checks) is in `_common`.
"""
