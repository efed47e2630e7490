"""State changes of the dues (党费), each one transaction (docs/dues.md): bases, reductions, payments and their
reversals, the month close, the payroll office's deduction list."""

from dangjian.dues.services.bases import base_set
from dangjian.dues.services.closes import month_close
from dangjian.dues.services.payments import payment_record, payment_reverse
from dangjian.dues.services.reductions import reduction_grant

__all__ = ["base_set", "month_close", "payment_record", "payment_reverse", "reduction_grant"]
