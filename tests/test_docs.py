"""The README and docs/ read as documentation for a newcomer, not as a measurement diary.

A figure in the docs carries its command, machine and software versions; clock times, commit
hashes and words about who measured when do not belong there (issue 24). The README stays one
short page with the two commands on its first screen, and every relative link points at a file
(and heading) that exists.
"""
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

README_MAX_LINES = 250
FIRST_SCREEN = 30  # lines a reader sees before scrolling

CLOCK = re.compile(r"(?<![\w.:/=-])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?![\w:])")
DATE = re.compile(r"(?<![\w.-])20\d\d-[01]\d-[0-3]\d(?![\w-])")
# 7–40 hex digits standing alone as a word (a run id's parts are joined by "-" and do not count)
HEX_WORD = re.compile(r"(?<![\w./#-])[0-9a-f]{7,40}(?![\w/-])")
DIARY_PHRASES = ("this session", "last session", "these machines", "reference notes", "--out $OUT")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def diary_findings(text: str) -> list[str]:
    """Clock times, dates, commit-like hex words and diary phrases found in `text`."""
    found = [m.group(0) for m in CLOCK.finditer(text)]
    found += [m.group(0) for m in DATE.finditer(text)]
    found += [w for w in (m.group(0) for m in HEX_WORD.finditer(text))
              if re.search(r"\d", w) and re.search(r"[a-f]", w)]
    lower = text.lower()
    found += [p for p in DIARY_PHRASES if p.lower() in lower]
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]{2,}|`", "", heading).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for m in HEADING.finditer(FENCE.sub("", text)):
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def relative_links(text: str) -> list[str]:
    """Link and image targets outside code, without web addresses."""
    prose = INLINE_CODE.sub("", FENCE.sub("", text))
    return [t for t in LINK.findall(prose) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in relative_links(page.read_text()):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(target)
    return broken


def test_the_diary_finder_catches_times_hashes_and_phrases_and_spares_ids_and_addresses():
    diary = ("Measured at 21:34 UTC (load 4.4, 20:41–20:44) on main d53d00c, commit 1df837b; "
             "re-measured 2026-11-27 by this session, python x.py --out $OUT")
    assert diary_findings(diary) == ["21:34", "20:41", "20:44", "2026-11-27", "d53d00c", "1df837b",
                                     "this session", "--out $OUT"]
    plain = ("run id 4d17676926fa-1a2b3c4d; ray at 10.0.0.1:6379; --param tau=0.25:3; "
             "max |diff| 9.5e-07; 12,406 images; seed 1234567; HOST:PORT; torch 2.14.1")
    assert diary_findings(plain) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_clock_times_commit_hashes_or_diary_words(page):
    assert diary_findings(page.read_text()) == [], (
        f"{page.relative_to(ROOT)}: a figure needs its command, machine and versions, not when or at "
        "which commit it was measured")


def test_readme_is_one_short_page_with_the_two_commands_on_its_first_screen():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES
    first_screen = "\n".join(lines[:FIRST_SCREEN])
    assert "make run" in first_screen and "make test" in first_screen


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_an_existing_file_and_heading(page):
    assert broken_links(page) == []


def test_a_broken_link_or_anchor_is_reported(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## The `nc_reg` study: λ\n")
    page.write_text("[a](other.md) [b](other.md#the-nc_reg-study-λ) [c](missing.md) [d](other.md#nope) "
                    "[e](https://example.org/x.md) `[f](in-code.md)`\n```\n[g](in-fence.md)\n```\n")
    assert broken_links(page) == ["missing.md", "other.md#nope"]


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(README.read_text())}
    assert [p.name for p in DOCS if p.resolve() not in linked] == []


@pytest.mark.parametrize("page, start, end", [
    ("docs/methods.md", "<!-- fidelity-table:start -->", "<!-- fidelity-table:end -->"),
    ("docs/reproducing.md", "<!-- mnist1d-table:start -->", "<!-- mnist1d-table:end -->"),
])
def test_measured_tables_sit_between_their_markers(page, start, end):
    """benchmarks/fidelity_table.py rewrites the Fidelity table between its markers."""
    text = (ROOT / page).read_text()
    assert text.count(start) == 1 and text.count(end) == 1
    body = text.split(start, 1)[1].split(end, 1)[0]
    assert body.count("\n|") >= 3  # a header, its rule and rows


def layout_lines(readme: str) -> list[tuple[str, str]]:
    """(folder, description) for each folder the README's Layout block names; a line indented
    under a top-level folder names its sub-folders (several may share a line)."""
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    rows, parent = [], ""
    for line in block.splitlines():
        if not line.strip():
            continue
        head, _, text = line.strip().partition("  ")
        names = [w for w in head.split() if w.endswith("/")]
        if line == line.lstrip():
            parent = names[0] if names else ""
            rows += [(name, text.strip()) for name in names]
        else:
            rows += [(parent + name, text.strip()) for name in names]
    return rows


def test_the_readme_layout_names_existing_folders_and_every_package_and_page():
    rows = layout_lines(README.read_text())
    named = {folder.rstrip("/") for folder, _ in rows}
    assert [f for f in named if not (ROOT / f).is_dir()] == []
    packages = {f"{top}/{d.name}" for top in ("app", "ltcore") for d in (ROOT / top).iterdir()
                if (d / "__init__.py").exists()}
    assert sorted(packages - named) == []
    pages_line = dict(rows)["pages/"]
    assert [p.stem for p in (ROOT / "pages").glob("*.py") if p.stem not in pages_line] == []


CODE_NAME = re.compile(r"`(ltcore(?:\.\w+)+)")
CODE_PATH = re.compile(r"`((?:app|ltcore|pages|tests|benchmarks|assets)/[\w/.-]*(?:\.py|\.toml|\.csv|\.sh|/))`")


def resolves(dotted: str) -> bool:
    """Whether `dotted` (a module, or attributes of the longest importable module) exists."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for name in parts[i:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_modules_names_and_files_the_docs_cite_exist(page):
    """After a module moves, the docs that name it by its old place fail here."""
    text = page.read_text()
    assert sorted({n for n in CODE_NAME.findall(text) if not resolves(n)}) == []
    assert sorted({p for p in CODE_PATH.findall(text) if not (ROOT / p.rstrip("/")).exists()}) == []


def test_a_moved_module_or_file_is_reported():
    assert resolves("ltcore.sweep.relative_accuracy_for")
    assert not resolves("ltcore.metrics.relative_accuracy_for")
    assert CODE_PATH.findall("see `ltcore/cuda_graph.py` and `app/charts/`") == ["ltcore/cuda_graph.py", "app/charts/"]
