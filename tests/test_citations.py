"""Code cites documents in the repository (docs/…), never issue numbers or documents outside it, and every section
of docs/rules.md it names exists — so a reader can follow each citation."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = re.compile(r"\bissue \d+|(?<![\w/])DOMAIN\.md|shared/seeds|shared/DOMAIN")
SECTION = re.compile(r'docs/rules\.md,\s+"([^"]+)"')


def _sources() -> list[Path]:
    return [
        path
        for folder in ("dangjian", "bench", "tests")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in {".py", ".html", ".md"} and path.name != "test_citations.py"
    ]


def test_no_citation_points_outside_the_repository():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_every_cited_section_of_the_rules_exists():
    sections = {
        line.lstrip("#").strip()
        for line in (ROOT / "docs" / "rules.md").read_text(encoding="utf-8").splitlines()
        if line.startswith(("## ", "### "))
    }
    cited = {
        (str(path.relative_to(ROOT)), match.group(1).replace("\n", " "))
        for path in _sources()
        for match in SECTION.finditer(re.sub(r"\s*\n\s*", " ", path.read_text(encoding="utf-8")))
    }
    assert cited, "the code cites docs/rules.md by section"
    assert sorted((where, name) for where, name in cited if name not in sections) == []
