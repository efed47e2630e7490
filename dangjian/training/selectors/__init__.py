"""Read-side computations of training and hours: classes (lists, filing warnings), compliance (requirements,
completion, roll-ups, consequences, reconciliation)."""
