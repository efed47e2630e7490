"""Every query of a scoped model goes through the scope, or names its bypass (docs/development.md, "Rules of the
house: Scope").

This test walks the read side of every app — views, selectors, forms, filters, exports, to-do sources and the
import pages — and fails on a query of a scoped model (one whose queryset has `visible_to`) that starts from its
manager with anything but a scoped entry point (`visible_to`, `granted_to`, `held_by`, `manageable_by`,
`managed_by`, `editable_by`) or the named bypass `dangerously_all()`. A bypass is for rows already reached through
the scope (ids of a scoped list, a correlated subquery of a scoped row) or for rules that are public by design
(policies, the tree's own roots); its name makes it visible in review and in `grep dangerously_all`.

The every-URL test (tests/test_scope_every_url.py) proves what each page shows; this one proves the shape of the
code, so that a new query cannot skip the scope unnoticed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent / "dangjian"
# The read side: where a query answers a user.
READ_MODULES = {
    "views",
    "selectors",
    "forms",
    "filters",
    "exports",
    "import_views",
    "search",
    "lookups",
    "todo",
    "home",
}
SCOPED_ENTRY_POINTS = {
    "visible_to",
    "granted_to",
    "manageable_by",
    "managed_by",
    "editable_by",
    "held_by",
    "grant_roots",
    "dangerously_all",
    "none",
}


def _scoped_models() -> set[str]:
    return {
        model.__name__ for model in apps.get_models() if hasattr(model._default_manager.get_queryset(), "visible_to")
    }


def _read_side_files() -> list[Path]:
    files = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {"tests", "migrations", "management"}:
            continue
        if path.stem in READ_MODULES or path.parent.name in READ_MODULES:
            files.append(path)
    return files


def _unscoped_queries(path: Path, scoped: set[str], root: Path = ROOT) -> list[str]:
    """`Model.objects.<x>` (or `_default_manager`) of a scoped model where <x> is no scoped entry point."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)):
            continue
        manager = node.value
        if manager.attr not in ("objects", "_default_manager") or not isinstance(manager.value, ast.Name):
            continue
        if manager.value.id in scoped and node.attr not in SCOPED_ENTRY_POINTS:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {manager.value.id}.{manager.attr}.{node.attr}")
    return found


def test_the_walk_sees_the_read_side():
    names = {str(path.relative_to(ROOT)) for path in _read_side_files()}
    # A sample of each kind, so that a rename of the layout cannot silently empty the walk.
    for expected in ("members/views.py", "training/selectors/compliance.py", "schools/forms/schools.py"):
        assert expected in names
    assert {"Member", "Organization", "TrainingClass", "Institution"} <= _scoped_models()


@pytest.mark.parametrize("path", _read_side_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_query_of_a_scoped_model_goes_through_the_scope(path):
    assert _unscoped_queries(path, _scoped_models()) == []


def test_the_walk_catches_an_unscoped_query(tmp_path):
    """The test can fail: a query written the short way is reported, the scoped and the named ones are not."""
    module = tmp_path / "views.py"
    module.write_text(
        "def page(request):\n"
        "    Member.objects.filter(name='x')\n"
        "    Member.objects.visible_to(request.user)\n"
        "    Member.objects.dangerously_all().filter(pk__in=[])\n"
        "    Notice.objects.filter(pk=1)\n"
    )
    assert _unscoped_queries(module, {"Member"}, root=tmp_path) == ["views.py:2: Member.objects.filter"]
