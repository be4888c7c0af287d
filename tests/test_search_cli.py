"""``aspire-desktop search``, run as a real process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from search_pdfs import Doc, content
from test_cli import run

pytestmark = pytest.mark.slow

GUIDE = "aspire-desktop-user-guide"


def test_search_the_shipped_content(baseline: Path) -> None:
    proc = run("search", "reading", "positions")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == "1. ASPire Desktop user guide  (Document; current)"
    assert lines[1].startswith(f"   {GUIDE}; matched in ")
    assert any(line.startswith("   aspire-desktop-user-guide.pdf, page ") for line in lines)


def _snippet_ok(snippet: dict[str, Any] | None) -> None:
    if snippet is None:
        return
    text = snippet["text"]
    assert snippet["highlights"]
    for start, end in snippet["highlights"]:
        assert 0 <= start < end <= len(text)


def test_search_json(baseline: Path) -> None:
    proc = run("search", "--json", "IRD")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["query"] == "IRD" and doc["content_version"] == 1
    assert doc["expansions"] == [{"typed": "IRD", "term": "Inter-agency Referral Discussion"}]
    assert doc["index"]["prebuilt"] is True and doc["index"]["waiting"] == 0
    (guide,) = doc["results"]
    assert guide["id"] == GUIDE and guide["matched_in"] == ["text"]
    assert guide["page_count"] == len(guide["pages"]) >= 1
    for page in guide["pages"]:
        assert page["page"] >= 1 and page["file"] == "aspire-desktop-user-guide.pdf"
        _snippet_ok(page["snippet"])
    first = guide["pages"][0]["snippet"]
    matched = [first["text"][a:b] for a, b in first["highlights"]]
    assert "IRD" in matched or "Inter-agency Referral Discussion" in " ".join(matched)


def test_filters_and_mistakes(baseline: Path) -> None:
    trauma = json.loads(run("search", "--json", "--category", "trauma", "trauma").stdout)
    assert trauma["results"] and all("trauma" in r["categories"] for r in trauma["results"])
    kinds = json.loads(run("search", "--json", "--kind", "toolkit", "trauma").stdout)
    assert [r["kind"] for r in kinds["results"]] == ["toolkit"]

    unknown = run("search", "--category", "nope", "harm")
    assert unknown.returncode == 1
    assert "There is no category 'nope'." in unknown.stderr
    assert "Known categories: trauma, using-aspire-desktop." in unknown.stderr
    assert run("search", "--limit", "0", "harm").returncode == 2
    assert run("search", "--kind", "nonsense", "harm").returncode == 2
    assert run("search").returncode == 2
    nothing = run("search", '"(*)"')
    assert (
        nothing.returncode == 0
        and nothing.stdout.strip() == "Nothing to search for: type some words."
    )
    none = run("search", "--json", "zzzzqqq")
    assert none.returncode == 0 and json.loads(none.stdout)["results"] == []


def test_search_after_a_sync_uses_the_users_own_index(
    baseline: Path, isolated_home: Path, tmp_path: Path
) -> None:
    built = content(tmp_path, [Doc("herons", "Herons", pages=["Grey herons by the river."])])
    versions = isolated_home / "data" / "content" / "versions"
    versions.mkdir(parents=True)
    shutil.move(built, versions / "v2")
    (versions.parent / "current.json").write_text(json.dumps({"version_dir": "v2"}))

    first = json.loads(run("search", "--json", "herons").stdout)
    assert [r["id"] for r in first["results"]] == ["herons"]
    assert first["index"]["prebuilt"] is False
    assert first["index"]["documents_indexed"] == 1 and first["index"]["waiting"] == 0
    assert (isolated_home / "data" / "search.sqlite").is_file()

    doctor = json.loads(run("doctor", "--json").stdout)
    (check,) = [c for c in doctor["checks"] if c["name"] == "search index"]
    assert check["ok"] and "1 documents (1 pages) indexed" in check["detail"]
    assert str(isolated_home / "data") in check["detail"]
