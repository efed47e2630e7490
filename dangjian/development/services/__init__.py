"""State changes of member development (发展党员): registering an applicant, recording a step, extending a
probation, the yearly plan's quotas. Pages, commands and the demo all call these functions."""

from dangjian.development.services.path import candidate_register, probation_extend, step_record
from dangjian.development.services.plan import quota_set

__all__ = ["candidate_register", "probation_extend", "quota_set", "step_record"]
