"""Source importers: every export format tuneloop reads, behind one interface.

    from tuneloop.data.importers import read_source, sources_from_config
    for source in sources_from_config(params["data"]):
        for item in read_source(source, params["data"]):
            ...  # item.record (a schema record) or item.error ("code: detail"), item.source, item.locator

A source is {path, format, mapping} from conf/data `sources:` (or the `tickets` / `kb_dir` shorthand);
`optional: true` lets its path be absent (then it has no files).
`path` may be a file or a folder (every file under it with one of the format's suffixes, sorted).
Formats and their mapping keys are documented in docs/data-sources.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tuneloop.data.importers import (
    documents,
    feedback,
    freshdesk,
    intercom,
    native,
    ready,
    salesforce,
    transcripts,
    zendesk,
)
from tuneloop.data.importers.base import DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_RECORD_BYTES, ConfigError, Item, bad

__all__ = ["FORMATS", "Format", "ConfigError", "Item", "read_source", "sources_from_config", "source_files"]


@dataclass(frozen=True)
class Format:
    read: Callable[[Path, dict], Iterator[Item]]
    family: str  # "records" (tickets, calls, training data) or "documents" (KB chunks)
    suffixes: tuple[str, ...]  # the files a folder source picks up


FORMATS: dict[str, Format] = {
    "tuneloop_jsonl": Format(native.read_jsonl, "records", (".jsonl",)),
    "tuneloop_csv": Format(native.read_csv, "records", (".csv",)),
    "zendesk": Format(zendesk.read, "records", (".json", ".jsonl", ".ndjson")),
    "freshdesk": Format(freshdesk.read, "records", (".json", ".jsonl", ".ndjson")),
    "intercom": Format(intercom.read, "records", (".json", ".jsonl", ".ndjson")),
    "salesforce": Format(salesforce.read, "records", (".csv",)),
    "webvtt": Format(transcripts.read_vtt, "records", (".vtt",)),
    "srt": Format(transcripts.read_srt, "records", (".srt",)),
    "transcript_json": Format(transcripts.read_json, "records", (".json",)),
    "instruction_jsonl": Format(ready.read_instruction, "records", (".jsonl", ".json")),
    "chat_jsonl": Format(ready.read_chat, "records", (".jsonl", ".json")),
    "classification_csv": Format(ready.read_classification, "records", (".csv",)),
    "feedback_jsonl": Format(feedback.read, "records", (".jsonl",)),  # reviewed production feedback
    "markdown": Format(documents.read_markdown, "documents", (".md", ".markdown")),
    "html": Format(documents.read_html, "documents", (".html", ".htm")),
    "docx": Format(documents.read_docx, "documents", (".docx",)),
    "pdf": Format(documents.read_pdf, "documents", (".pdf",)),
    "txt": Format(documents.read_txt, "documents", (".txt",)),
    "documents": Format(documents.read_any, "documents", tuple(documents.BY_SUFFIX)),
}
FORMATS["confluence"] = FORMATS["html"]  # Confluence "Export to HTML"
FORMATS["notion"] = FORMATS["documents"]  # Notion "Markdown & CSV" or "HTML" export


def sources_from_config(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The sources conf/data names: `tickets` and `kb_dir` (shorthand) first, then `sources:`, in order."""
    sources: list[dict[str, Any]] = []
    for path in data.get("tickets") or []:
        suffix = Path(path).suffix.lower()
        fmt = {".jsonl": "tuneloop_jsonl", ".csv": "tuneloop_csv"}.get(suffix)
        if fmt is None:
            raise ConfigError(
                f"data.tickets: {path}: unsupported export format {suffix!r} (use .jsonl or .csv, "
                f"or list it under data.sources with its format)"
            )
        sources.append({"path": str(path), "format": fmt, "mapping": {}, "name": f"data.tickets ({path})"})
    for index, source in enumerate(data.get("sources") or []):
        name = f"data.sources[{index}]"
        if not isinstance(source, dict) or not source.get("path") or not source.get("format"):
            raise ConfigError(f"{name}: each source needs `path` and `format` (got {source!r})")
        if source["format"] not in FORMATS:
            raise ConfigError(
                f"{name} ({source['path']}): unknown format {source['format']!r}; known: {', '.join(sorted(FORMATS))}"
            )
        mapping = source.get("mapping") or {}
        if not isinstance(mapping, dict):
            raise ConfigError(f"{name} ({source['path']}): `mapping` must be a mapping, got {type(mapping).__name__}")
        sources.append(
            {
                "path": str(source["path"]),
                "format": source["format"],
                "mapping": dict(mapping),
                "name": name,
                "optional": bool(source.get("optional")),
            }
        )
    if data.get("kb_dir"):
        sources.append({"path": str(data["kb_dir"]), "format": "markdown", "mapping": {}, "name": "data.kb_dir"})
    return sources


def source_files(source: dict[str, Any]) -> list[Path]:
    """The files of one source: the file itself, or a folder's files with the format's suffixes."""
    path = Path(source["path"])
    name = source.get("name", source["path"])
    fmt = FORMATS.get(source["format"])
    if fmt is None:
        raise ConfigError(f"{name} ({path}): unknown format {source['format']!r}; known: {', '.join(sorted(FORMATS))}")
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in fmt.suffixes
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    if not path.exists():
        if source.get("optional"):  # e.g. approved feedback, present once a reviewer approved some
            return []
        raise ConfigError(f"{name}: {path}: file not found")
    return [path]


def read_source(source: dict[str, Any], data: dict[str, Any] | None = None) -> Iterator[Item]:
    """Every Item of one source, each with `source` set to the file it came from."""
    data = data or {}
    mapping = {
        "labels": list(data.get("labels") or []),
        "max_record_bytes": data.get("max_record_bytes") or DEFAULT_MAX_RECORD_BYTES,
        "max_document_bytes": data.get("max_document_bytes") or DEFAULT_MAX_DOCUMENT_BYTES,
        **(source.get("mapping") or {}),
    }
    fmt = FORMATS[source["format"]]
    for path in source_files(source):
        if not path.is_file():
            yield replace(bad(0, f"unsupported_file: {path} is not a regular file"), source=str(path))
            continue
        try:
            for item in fmt.read(path, mapping):
                yield replace(item, source=str(path))
        except OSError as exc:  # unreadable mid-way (permissions, I/O error): the rest of the file is lost
            yield replace(bad(0, f"unreadable_file: {type(exc).__name__}: {exc.strerror or exc}"), source=str(path))


def family(source: dict[str, Any]) -> str:
    return FORMATS[source["format"]].family
