"""Pages of the off-campus institutions' party building (校外培训机构党建), one module per seam (the URLs are in
`supervision/urls.py`): the coverage dashboard, institutions (list, registration, detail and the committee's actions
on it), instructors (appointments, the year summary), visits, clues, points, and the grid with its pairings.

Seeing needs a role that sees a subtree, or a current instructor appointment; what is shown is what `visible_to`
lets through. Writing goes through `supervision.services`, which checks who may do it; a page offers a form only
to a user the service would let act.
"""
