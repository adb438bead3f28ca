"""What every reader shares: the Item it yields, bounded reading, decoding, JSON records, field mapping.

A reader is `read(path, mapping) -> Iterator[Item]`. It never raises on bad input: whatever it cannot
use becomes an Item with `error = "code: detail"` and a locator naming the record (line number, record
id or chunk id; 0 for the whole file), so `prepare` can quarantine it with its file and reason.
Only a bad configuration (unknown format, missing file) raises ConfigError.

`mapping` is the source's `mapping:` from conf/data plus three keys `read_source` fills in:
`labels` (data.labels), `max_record_bytes` and `max_document_bytes` (size caps; a source may set its own).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXCERPT_CHARS = 2000
DEFAULT_MAX_RECORD_BYTES = 2_000_000  # one JSONL line, CSV line or JSON record
DEFAULT_MAX_DOCUMENT_BYTES = 50_000_000  # one whole-file export (JSON document, HTML, PDF, DOCX, transcript)
SKIP_CHUNK = 1 << 20  # bytes read at a time while skipping an oversized line
PRIORITIES = ("low", "normal", "high", "urgent")


class ConfigError(ValueError):
    """conf/data names a source that cannot be read at all (unknown format, missing path)."""


@dataclass(frozen=True)
class Item:
    """One unit read from a source: a usable record, or the reason it is not usable."""

    locator: int | str  # line number, record id/index or chunk id; 0 = the whole file
    raw_excerpt: str = ""  # at most EXCERPT_CHARS of the input, for the quarantine file
    record: dict[str, Any] | None = None
    error: str | None = None  # "code: detail" when record is None
    source: str = ""  # the file it came from (filled in by read_source)


def bad(locator: int | str, error: str, raw: str = "") -> Item:
    return Item(locator=locator, raw_excerpt=raw[:EXCERPT_CHARS], error=error)


def good(locator: int | str, record: dict[str, Any], raw: str = "") -> Item:
    return Item(locator=locator, raw_excerpt=raw[:EXCERPT_CHARS], record=record)


def safely(convert, *args) -> tuple[dict | None, str | None]:
    """Run a record converter; an export shaped in a way it does not expect becomes bad_record, not a crash."""
    try:
        return convert(*args)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError, RecursionError) as exc:
        return None, f"bad_record: {type(exc).__name__}: {str(exc)[:200]}"


def provenance(path: Path, locator: int | str, source_format: str, record_id: str, kind: str) -> dict[str, Any]:
    """The fields every record carries (see the schema in docs/data-sources.md)."""
    return {"id": record_id, "kind": kind, "source": str(path), "locator": locator, "source_format": source_format}


# ---------------------------------------------------------------------------------------------------
# Bytes -> text, with size caps
# ---------------------------------------------------------------------------------------------------


def caps(mapping: dict) -> tuple[int, int]:
    return (
        int(mapping.get("max_record_bytes") or DEFAULT_MAX_RECORD_BYTES),
        int(mapping.get("max_document_bytes") or DEFAULT_MAX_DOCUMENT_BYTES),
    )


@dataclass
class Line:
    number: int  # 1-based physical line number
    offset: int  # byte offset of the line's first byte in the file
    data: bytes | None  # None when the line is longer than the cap (it was skipped, never held whole)
    size: int  # length in bytes (without the newline)


def iter_lines(path: Path, max_bytes: int) -> Iterator[Line]:
    """Physical lines as bytes, each read at most max_bytes at a time.

    An oversized line is skipped in 1 MiB steps and reported with data=None, so a 50 MB record is
    never held in memory, let alone decoded to a Python string.
    """
    with path.open("rb") as fh:
        number, offset = 0, 0
        while True:
            chunk = fh.readline(max_bytes + 1)
            if not chunk:
                return
            number += 1
            if len(chunk) > max_bytes and not chunk.endswith(b"\n"):
                size = len(chunk)
                while True:  # discard the rest of the line
                    more = fh.readline(SKIP_CHUNK)
                    size += len(more)
                    if not more or more.endswith(b"\n"):
                        break
                yield Line(number, offset, None, size - (1 if more.endswith(b"\n") else 0))
                offset += size
                continue
            stripped = chunk.rstrip(b"\r\n")
            yield Line(number, offset, stripped, len(stripped))
            offset += len(chunk)


def decode_line(line: Line) -> tuple[str | None, str | None]:
    """(text, None) or (None, "not_utf8: ..."). A UTF-8 BOM on line 1 is accepted and removed."""
    data = line.data or b""
    bom = 3 if line.number == 1 and data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, not_utf8(line.offset + bom + exc.start)


def not_utf8(offset: int) -> str:
    # We quarantine rather than guess cp1252: a wrong guess silently corrupts names and amounts.
    return f"not_utf8: undecodable byte at offset {offset}; re-export as UTF-8 (e.g. iconv -f cp1252 -t utf-8)"


def too_large(size: int, cap: int, what: str = "record") -> str:
    return f"record_too_large: {what} is {size} bytes, over the cap of {cap} (mapping.max_record_bytes / data.max_record_bytes)"


def read_document_text(path: Path, mapping: dict) -> tuple[str | None, Item | None]:
    """A whole text file as a string (UTF-8, BOM accepted), or the Item that quarantines the file."""
    data, error = read_document_bytes(path, mapping)
    if error is not None:
        return None, error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, bad(0, not_utf8(exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)))
    if not text.strip():
        return None, bad(0, "empty_file: no records")
    return text, None


def read_document_bytes(path: Path, mapping: dict) -> tuple[bytes | None, Item | None]:
    _, max_doc = caps(mapping)
    size = path.stat().st_size
    if size > max_doc:
        return None, bad(0, f"file_too_large: {size} bytes, over the cap of {max_doc} (data.max_document_bytes)")
    if size == 0:
        return None, bad(0, "empty_file: no records")
    return path.read_bytes(), None


# ---------------------------------------------------------------------------------------------------
# JSON exports: NDJSON (.jsonl/.ndjson, one record per line) or one JSON document (.json)
# ---------------------------------------------------------------------------------------------------


def iter_json_records(
    path: Path, mapping: dict, list_keys: tuple[str, ...]
) -> Iterator[tuple[int | str, str, dict | None, str | None]]:
    """Yield (locator, raw_excerpt, record, error) for each record of a JSON export.

    .json files hold one document: a list of records, an object with the list under one of list_keys
    (e.g. {"tickets": [...]}), or one record. Locators are 1-based record indexes there ("#3"),
    line numbers in NDJSON.
    """
    max_record, _ = caps(mapping)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        any_line = False
        for line in iter_lines(path, max_record):
            if line.data is None:
                any_line = True
                yield line.number, "", None, too_large(line.size, max_record)
                continue
            text, error = decode_line(line)
            if error:
                any_line = True
                yield line.number, line.data[:EXCERPT_CHARS].decode("utf-8", "replace"), None, error
                continue
            if not text.strip():
                continue
            any_line = True
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield line.number, text, None, f"invalid_json: {exc.msg} at column {exc.colno}"
                continue
            except RecursionError:
                yield line.number, text, None, "invalid_json: nested too deeply"
                continue
            if not isinstance(value, dict):
                yield line.number, text, None, f"not_an_object: expected a JSON object, got {type(value).__name__}"
                continue
            yield line.number, text, value, None
        if not any_line:
            yield 0, "", None, "empty_file: no records"
        return

    text, error_item = read_document_text(path, mapping)
    if error_item is not None:
        yield error_item.locator, "", None, error_item.error
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        yield 0, text[:EXCERPT_CHARS], None, f"invalid_json: {exc.msg} at line {exc.lineno} column {exc.colno}"
        return
    except RecursionError:
        yield 0, text[:EXCERPT_CHARS], None, "invalid_json: nested too deeply"
        return
    if isinstance(value, dict):
        key = next((k for k in list_keys if isinstance(value.get(k), list)), None)
        records = value[key] if key else [value]
    elif isinstance(value, list):
        records = value
    else:
        yield (
            0,
            text[:EXCERPT_CHARS],
            None,
            f"not_an_object: expected a JSON object or list, got {type(value).__name__}",
        )
        return
    if not records:
        yield 0, "", None, "empty_file: no records"
        return
    for index, record in enumerate(records, start=1):
        locator = f"#{index}"
        if not isinstance(record, dict):
            yield (
                locator,
                json.dumps(record)[:EXCERPT_CHARS],
                None,
                f"not_an_object: expected a JSON object, got {type(record).__name__}",
            )
            continue
        size = approx_size(record, max_record + 1)
        if size > max_record:
            yield locator, "", None, too_large(size, max_record)
            continue
        yield locator, json.dumps(record, ensure_ascii=False)[:EXCERPT_CHARS], record, None


def read_json_objects(path: Path, mapping: dict, list_keys: tuple[str, ...], convert, noun: str) -> Iterator[Item]:
    """Items from a JSON export of objects (tickets, conversations): each converted by
    `convert(obj, path, mapping) -> (record, error)`; a failure is located by the object's id."""
    for locator, raw, obj, error in iter_json_records(path, mapping, list_keys=list_keys):
        if error is None:
            record, error = safely(convert, obj, path, mapping)
            if record is not None:
                yield good(record["locator"], record, raw)
                continue
            locator = f"{noun} {obj['id']}" if obj.get("id") is not None else locator
        yield bad(locator, error, raw)


def approx_size(value: Any, stop: int) -> int:
    """Roughly the JSON size of value, without serialising it again (stops counting past `stop`)."""
    total, stack = 0, [value]
    while stack and total <= stop:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2
            for key, sub in item.items():
                total += len(str(key)) + 4
                stack.append(sub)
        elif isinstance(item, list):
            total += 2
            stack.extend(item)
        else:
            total += 8
    return total
