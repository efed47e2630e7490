from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from dangjian.workbench.selectors import todo_items, workbench_counts


@login_required
def home(request):
    """工作台: the counts of the user's scope and shortcuts to what their roles do."""
    grants = request.user.role_assignments.select_related("organization").order_by("role")
    return render(
        request,
        "workbench/home.html",
        {"counts": workbench_counts(user=request.user), "todos": todo_items(user=request.user), "grants": grants},
    )
