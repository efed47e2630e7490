"""State changes of training and hours, one module per seam: ledger (credits, reversals, corrections and the
yearly totals), classes (classes and their filing), enrollment, sessions, sign_in, attendance (marking attendance,
closing a session), policies (hours requirements), year_close (closing a year's hours)."""
