"""State changes of training and hours, one module per seam: ledger (credits, reversals, corrections and the
yearly totals), classes (classes, filing, enrollment, sessions, sign-in, closing), policies (hours requirements)."""
