"""Documents to knowledge-base chunks with stable ids.

Headed documents (HTML, Markdown, DOCX) are cut at headings of level 1-3: a chunk is the text under one
heading, `section` its heading path ("Title > Heading > Subheading") and its id
`kb:<doc-stem>#<heading-slug>/<subheading-slug>` (`#intro` for text before the first heading; `-2`, `-3`
for a repeated heading path). Deeper headings stay inside their chunk's text.
Paged documents (PDF, TXT) have no reliable headings: paragraphs are grouped, in order, into chunks of
about 200-400 words, with ids `kb:<doc-stem>#part-<n>` and locators naming their pages ("pages 3-4").
The same file always gives the same chunks and ids.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tuneloop.data.importers.base import Item, bad, good, provenance
from tuneloop.data.importers.fields import has_words, slug

MAX_HEADING_LEVEL = 3
MIN_WORDS, MAX_WORDS = 200, 400


def doc_id(path: Path) -> str:
    return f"kb:{slug(path.stem, 'doc')}"


def human_title(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize() or path.name


def _kb_record(
    path: Path, source_format: str, chunk_id: str, locator: str, title: str, section: str, text: str
) -> dict:
    return {
        **provenance(path, locator, source_format, chunk_id, "kb"),
        "doc_id": doc_id(path),
        "title": title,
        "section": section,
        "text": text,
    }


def chunk_by_headings(path: Path, source_format: str, blocks: list[tuple[int, str]], title: str | None) -> list[Item]:
    """blocks: [(heading level 1-6, text) or (0, paragraph text)] in document order."""
    blocks = [b for b in blocks if b[1].strip()]
    if blocks and blocks[0][0] == 1 and (not title or blocks[0][1].strip() == title.strip()):
        title, blocks = blocks[0][1].strip(), blocks[1:]  # the document's own title heading
    title = (title or "").strip() or human_title(path)
    items: list[Item] = []
    seen: Counter = Counter()
    stack: list[tuple[int, str]] = []
    body: list[str] = []

    def flush():
        text = "\n\n".join(body).strip()
        body.clear()
        if not has_words(text):
            return
        names = [name for _, name in stack]
        fragment = "/".join(slug(n) for n in names) or "intro"
        seen[fragment] += 1
        if seen[fragment] > 1:
            fragment = f"{fragment}-{seen[fragment]}"
        chunk_id = f"{doc_id(path)}#{fragment}"
        section = " > ".join([title, *names])
        items.append(good(chunk_id, _kb_record(path, source_format, chunk_id, chunk_id, title, section, text), text))

    for level, text in blocks:
        if 1 <= level <= MAX_HEADING_LEVEL:
            flush()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, " ".join(text.split())))
        else:
            body.append(text if level == 0 else "#" * level + " " + text)
    flush()
    return items or [bad(0, "no_text: the document has no text under any heading")]


def chunk_by_words(path: Path, source_format: str, pages: list[str], title: str | None) -> list[Item]:
    """pages: the text of each page, in order (a TXT file is one page unless it has form feeds)."""
    title = (title or "").strip() or human_title(path)
    paragraphs: list[tuple[int, str]] = []
    for number, page in enumerate(pages, start=1):
        for para in re.split(r"\n\s*\n", page):
            words = para.split()
            # one paragraph over MAX_WORDS becomes several pieces
            for start in range(0, len(words), MAX_WORDS):
                paragraphs.append((number, " ".join(words[start : start + MAX_WORDS])))
    groups: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    count = 0
    for number, para in paragraphs:
        n = len(para.split())
        if current and count + n > MAX_WORDS:
            groups.append(current)
            current, count = [], 0
        current.append((number, para))
        count += n
        if count >= MIN_WORDS:
            groups.append(current)
            current, count = [], 0
    if current:
        tail = sum(len(p.split()) for _, p in current)
        if groups and tail < MIN_WORDS // 2 and tail + sum(len(p.split()) for _, p in groups[-1]) <= MAX_WORDS:
            groups[-1].extend(current)
        else:
            groups.append(current)
    items = []
    for index, group in enumerate(g for g in groups if has_words(" ".join(p for _, p in g))):
        first, last = group[0][0], group[-1][0]
        locator = f"page {first}" if first == last else f"pages {first}-{last}"
        chunk_id = f"{doc_id(path)}#part-{index + 1}"
        text = "\n\n".join(p for _, p in group)
        items.append(good(locator, _kb_record(path, source_format, chunk_id, locator, title, title, text), text))
    return items or [bad(0, "no_text: no extractable text (a scanned PDF needs OCR first)")]
