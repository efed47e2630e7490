"""State changes of the party-school area, one module per seam: schools (venues, principals, plans, money,
六有), catalog (instructors, points, courses, modules, premium rounds), booking, evaluation (scores, ranking).
Every function is keyword-only, one transaction, scope checked inside (`_common.require_manager`)."""
