"""CSV exports read row by row: header checks, ragged rows, bad bytes and oversized lines, each a reason.

Lines are read through base.iter_lines, so one oversized line is skipped without being held in
memory; bytes that are not UTF-8 quarantine only the row they sit in (with the byte offset).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import EXCERPT_CHARS, caps, iter_lines, not_utf8, too_large

Row = tuple[int, str, dict | None, str | None]  # (line number, raw excerpt, row, error)


class _Lines:
    """Feeds decoded lines to csv.reader and remembers what it could not feed."""

    def __init__(self, path: Path, max_bytes: int):
        self._lines = iter_lines(path, max_bytes)
        self.max_bytes = max_bytes
        self.line_no = 0
        self.skipped: list[Row] = []  # oversized lines, reported before the next row
        self.row_lines: list[tuple[int, bytes]] = []  # (offset, bytes) of the lines of the current row

    def __iter__(self):
        return self

    def __next__(self) -> str:
        while True:
            line = next(self._lines)
            self.line_no = line.number
            if line.data is None:
                self.skipped.append((line.number, "", None, too_large(line.size, self.max_bytes, "line")))
                continue
            data, offset = line.data, line.offset
            if line.number == 1 and data.startswith(b"\xef\xbb\xbf"):  # BOM: accepted
                data, offset = data[3:], offset + 3
            self.row_lines.append((offset, data))
            # surrogateescape keeps undecodable bytes visible, so the row holding them can be named
            return data.decode("utf-8", "surrogateescape") + "\n"

    def take_row(self) -> tuple[str, str | None]:
        """(raw text of the row just parsed, not_utf8 error or None); starts the next row."""
        lines, self.row_lines = self.row_lines, []
        raw = b"\n".join(data for _, data in lines)
        for offset, data in lines:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return raw.decode("utf-8", "replace")[:EXCERPT_CHARS], not_utf8(offset + exc.start)
        return raw.decode("utf-8")[:EXCERPT_CHARS], None


def iter_csv_rows(
    path: Path, mapping: dict, required: tuple[str, ...], aliases: dict[str, str] | None = None
) -> Iterator[Row]:
    """Yield one Row per data row (blank lines skipped); a bad header quarantines the whole file."""
    max_record, _ = caps(mapping)
    aliases = {k.lower(): v for k, v in (aliases or {}).items()}
    feeder = _Lines(path, max_record)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # iter_lines already caps each line
    try:
        reader = csv.reader(feeder)
        header: list[str] | None = None
        oversized = rows = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                oversized += len(feeder.skipped)
                rows += 1
                yield from _drain(feeder)
                raw, _ = feeder.take_row()
                yield feeder.line_no, raw, None, f"csv_error: {exc}"
                continue
            oversized += len(feeder.skipped)
            yield from _drain(feeder)
            raw, bad_bytes = feeder.take_row()
            if not cells:
                continue
            line_no = feeder.line_no
            if header is None:
                if bad_bytes:
                    yield line_no, raw, None, bad_bytes
                    return
                header = [aliases.get(c.strip().lower(), c.strip()) for c in cells]
                missing = [f for f in required if f not in header]
                if missing:
                    yield (
                        line_no,
                        raw,
                        None,
                        f"csv_missing_columns: header lacks required column(s) {missing}; has {header}",
                    )
                    return
                continue
            rows += 1
            if bad_bytes:
                yield line_no, raw, None, bad_bytes
            elif len(cells) > len(header):
                yield line_no, raw, None, f"csv_extra_cells: row has {len(cells)} cells, header has {len(header)}"
            elif len(cells) < len(header):
                yield (
                    line_no,
                    raw,
                    None,
                    f"csv_missing_cells: row has fewer cells than the {len(header)} header columns",
                )
            else:
                yield line_no, raw, dict(zip(header, cells)), None
        oversized += len(feeder.skipped)
        yield from _drain(feeder)
        if not rows and not oversized:
            yield 0, "", None, "empty_file: no records" + (" (a header and no rows)" if header else "")
    finally:
        csv.field_size_limit(old_limit)


def _drain(feeder: _Lines) -> Iterator[Row]:
    skipped, feeder.skipped = feeder.skipped, []
    yield from skipped
