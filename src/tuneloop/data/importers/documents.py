"""Knowledge-base documents: Markdown, HTML (Confluence and Notion exports too), DOCX, PDF and TXT.

Each file becomes kind "kb" chunks (see chunking.py). A file that cannot be read (corrupt DOCX or PDF,
not UTF-8, empty, encrypted, no text) is one quarantined item naming the file and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import Item, bad, read_document_bytes, read_document_text
from tuneloop.data.importers.chunking import chunk_by_headings, chunk_by_words
from tuneloop.data.importers.html import html_to_blocks

ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^\s*(```|~~~)")
FRONT_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.M)


def read_markdown(path: Path, mapping: dict) -> Iterator[Item]:
    text, error = read_document_text(path, mapping)
    if error is not None:
        yield error
        return
    title, blocks = markdown_blocks(text)
    yield from chunk_by_headings(path, "markdown", blocks, title)


def markdown_blocks(text: str) -> tuple[str | None, list[tuple[int, str]]]:
    """(front-matter title or None, blocks). Headings inside fenced code blocks are code, not headings."""
    title = None
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            match = FRONT_TITLE.search(text[4:end])
            title = match.group(1).strip() if match else None
            text = text[end + 4 :].split("\n", 1)[1] if "\n" in text[end + 4 :] else ""
    blocks: list[tuple[int, str]] = []
    para: list[str] = []
    fenced = False

    def flush():
        if para and "".join(para).strip():
            blocks.append((0, "\n".join(para).strip("\n")))
        para.clear()

    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
            para.append(line)
            continue
        heading = None if fenced else ATX.match(line)
        if heading:
            flush()
            blocks.append((len(heading.group(1)), heading.group(2).strip()))
        elif not line.strip() and not fenced:
            flush()
        else:
            para.append(line)
    flush()
    return title, blocks


def read_html(path: Path, mapping: dict) -> Iterator[Item]:
    text, error = read_document_text(path, mapping)
    if error is not None:
        yield error
        return
    title, blocks = html_to_blocks(text)
    yield from chunk_by_headings(path, "html", blocks, title or None)


def read_docx(path: Path, mapping: dict) -> Iterator[Item]:
    data, error = read_document_bytes(path, mapping)
    if error is not None:
        yield error
        return
    import docx  # python-docx; imported here so the CLI starts fast
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        title = (document.core_properties.title or "").strip() or None
        blocks: list[tuple[int, str]] = []
        for part in document.iter_inner_content():
            if isinstance(part, Table):
                rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in part.rows]
                blocks.append((0, "\n".join(r for r in rows if r.strip(" |"))))
                continue
            style = (part.style.name if part.style is not None else "") or ""
            text = part.text.strip()
            if not text:
                continue
            if style == "Title":
                title = title or text
            elif m := re.fullmatch(r"Heading (\d)", style):
                blocks.append((int(m.group(1)), text))
            else:
                blocks.append((0, text))
    except Exception as exc:  # python-docx raises many types on damaged files; all mean the same here
        yield bad(0, f"corrupt_file: not a readable DOCX ({type(exc).__name__}: {str(exc)[:160]})")
        return
    yield from chunk_by_headings(path, "docx", blocks, title)


def read_pdf(path: Path, mapping: dict) -> Iterator[Item]:
    data, error = read_document_bytes(path, mapping)
    if error is not None:
        yield error
        return
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files warn per object; the reason is enough
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            yield bad(0, "encrypted_file: the PDF needs a password; export it without protection")
            return
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = reader.metadata.title if reader.metadata else None
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same here
        yield bad(0, f"corrupt_file: not a readable PDF ({type(exc).__name__}: {str(exc)[:160]})")
        return
    if not pages:
        yield bad(0, "no_text: the PDF has no pages")
        return
    yield from chunk_by_words(path, "pdf", pages, str(meta_title) if meta_title else None)


def read_txt(path: Path, mapping: dict) -> Iterator[Item]:
    text, error = read_document_text(path, mapping)
    if error is not None:
        yield error
        return
    yield from chunk_by_words(path, "txt", text.replace("\r\n", "\n").split("\f"), None)


BY_SUFFIX = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
    ".pdf": read_pdf,
    ".txt": read_txt,
}


def read_any(path: Path, mapping: dict) -> Iterator[Item]:
    """Format "documents": the reader is chosen by the file's suffix."""
    reader = BY_SUFFIX.get(path.suffix.lower())
    if reader is None:
        yield bad(
            0, f"unsupported_file: {path.suffix or 'no suffix'} is not a document type ({', '.join(sorted(BY_SUFFIX))})"
        )
        return
    yield from reader(path, mapping)
