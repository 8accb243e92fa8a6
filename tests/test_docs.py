"""Every relative link in the README, the changelog and docs/ leads somewhere: to a file that
exists and, where the link has a #fragment, to a heading of that file under GitHub's anchor
rules. A page that is renamed or a heading that is reworded breaks the links to it here, not
in a reader's browser."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.S)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def pages() -> list[Path]:
    """The documents whose links are checked: README, CHANGELOG and every page of docs/."""
    return [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose(text: str) -> str:
    """The text with code blocks and code spans blanked: a `[x](y)` in code is no link."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return CODE_SPAN.sub("", text)


def links(text: str) -> list[str]:
    """Every link target of a markdown text: inline links, images and reference definitions."""
    body = prose(text)
    return INLINE_LINK.findall(body) + REFERENCE_DEF.findall(body)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (github-slugger): the rendered text lowercased, every
    character but letters, digits, marks, `_`, `-` and spaces dropped, spaces made hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays
    text = re.sub(r"[`*]", "", text)  # code and emphasis marks are not rendered
    kept = []
    for char in text.lower():
        category = unicodedata.category(char)
        if char in " -_" or category[0] in "LNM" or category == "Pc":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a markdown file; repeated headings get -1, -2, as on GitHub."""
    seen: dict[str, int] = {}
    result = set()
    for _, heading in HEADING.findall(prose(path.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def relative_links() -> list[tuple[Path, str]]:
    found = []
    for page in pages():
        if page.exists():
            for target in links(page.read_text(encoding="utf-8")):
                if target and not SCHEME.match(target) and (page, target) not in found:
                    found.append((page, target))
    return found


LINKS = relative_links()


def test_the_pages_exist_and_link_to_each_other():
    assert all(page.exists() for page in pages()[:2]), "README.md and CHANGELOG.md"
    assert (ROOT / "docs" / "index.md").exists()
    linked_from_readme = {t for p, t in LINKS if p.name == "README.md"}
    assert "docs/index.md" in linked_from_readme
    assert len(LINKS) > 50, "the link extractor found too few links: it is broken"


@pytest.mark.parametrize(
    ("page", "target"), LINKS, ids=[f"{p.relative_to(ROOT)}->{t}" for p, t in LINKS]
)
def test_a_relative_link_resolves(page: Path, target: str):
    path, _, fragment = target.partition("#")
    destination = (page.parent / unquote(path)).resolve() if path else page
    where = f"{page.relative_to(ROOT)}: link {target!r}"
    assert destination.exists(), f"{where}: no file {destination.relative_to(ROOT)}"
    if fragment:
        assert destination.suffix == ".md", f"{where}: an anchor into a file that is not markdown"
        known = anchors(destination)
        assert unquote(fragment) in known, f"{where}: no heading #{fragment} (has {sorted(known)})"


# The checker itself: what it reads as a link and an anchor -------------------------------


def test_slugs_follow_github():
    assert slug("Runtime: how a training executes") == "runtime-how-a-training-executes"
    assert slug("A real-size model without the hub: `xlmr-base-random`") == (
        "a-real-size-model-without-the-hub-xlmr-base-random"
    )
    assert slug("[Unreleased]") == "unreleased"
    assert slug("results.json's run object") == "resultsjsons-run-object"
    assert slug("Few-shot: n ≥ 250 → *fr*") == "few-shot-n--250--fr"
    assert slug("snake_case stays") == "snake_case-stays"


def test_links_in_code_are_not_links_and_repeated_headings_are_numbered(tmp_path):
    text = (
        '# Title\n\nSee [a](a.md#x "title") and ![img](pic.png) and [b][ref].\n\n'
        "```\n[not](code.md)\n# not a heading\n```\n\n`[nor](this.md)`\n\n"
        "## Same\n\n## Same\n\n[ref]: other.md\n"
    )
    assert links(text) == ["a.md#x", "pic.png", "other.md"]
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    assert anchors(page) == {"title", "same", "same-1"}
