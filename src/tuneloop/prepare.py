"""Stage `prepare`: read the raw exports into one record schema, validate, redact, dedup, quarantine.

    tuneloop prepare     # data/raw -> data/prepared/{records,quarantine}.jsonl, reports/data/prepare.{json,md}

Quarantine reasons read `code: detail` (invalid_json, missing_field, unknown_category, no_text,
empty_file, not_utf8, csv_missing_columns, ...); the report counts them by code.
Every input record ends in exactly one place: kept, dropped (with a reason, e.g. an exact duplicate)
or quarantined (unreadable or invalid, with the file, line and reason). The report's counts add up:
records_in == kept + dropped + quarantined, per file and in total.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

from tuneloop.io import write_json, write_jsonl, write_text_atomic
from tuneloop.redact import redact

log = logging.getLogger(__name__)

OUT_DIR = Path("data/prepared")
REPORT_DIR = Path("reports/data")
TICKET_FIELDS = ("customer_message", "agent_reply", "category")  # required in every ticket
OPTIONAL_FIELDS = ("ticket_id", "created_at", "channel", "subject", "priority", "status", "satisfaction")
TEXT_FIELDS = ("subject", "customer_message", "agent_reply")


class PrepareError(RuntimeError):
    pass


def run(params: dict[str, Any], out_dir: str | Path = OUT_DIR, report_dir: str | Path = REPORT_DIR) -> dict:
    data = params["data"]
    labels = set(data["labels"])
    kept: list[dict] = []
    quarantined: list[dict] = []
    dropped: list[dict] = []
    pii = Counter()
    per_file: dict[str, Counter] = {}
    seen: dict[str, str] = {}  # normalized content hash -> id of the first record kept

    for path in map(Path, data["tickets"]):
        counts = per_file.setdefault(str(path), Counter())
        for line_no, raw, record, error in _read_tickets(path):
            counts["in"] += 1
            if error is None:
                error = _validate(record, labels)
            if error is not None:
                counts["quarantined"] += 1
                quarantined.append({"source": str(path), "line": line_no, "reason": error,
                                    "raw": redact(raw, Counter())[:2000]})
                continue
            ticket = _to_ticket(record, path, line_no, data.get("redact", True), pii)
            key = _content_key(ticket)
            if key in seen:
                counts["dropped"] += 1
                dropped.append({"id": ticket["id"], "source": str(path), "line": line_no,
                                "reason": "exact_duplicate", "duplicate_of": seen[key]})
                continue
            seen[key] = ticket["id"]
            counts["kept"] += 1
            kept.append(ticket)

    kb = _read_kb(Path(data["kb_dir"]), data.get("redact", True), pii) if data.get("kb_dir") else []
    tickets_kept = len(kept)
    if tickets_kept < int(data.get("min_examples", 10)):
        raise PrepareError(f"only {tickets_kept} usable tickets in {data['tickets']} (need at least "
                           f"{data.get('min_examples', 10)}); see the reasons in {Path(out_dir) / 'quarantine.jsonl'}")

    out_dir, report_dir = Path(out_dir), Path(report_dir)
    write_jsonl(out_dir / "quarantine.jsonl", quarantined)
    write_jsonl(out_dir / "dropped.jsonl", dropped)
    write_jsonl(out_dir / "records.jsonl", kept + kb)
    report = _report(per_file, quarantined, dropped, tickets_kept, len(kb), pii, kept)
    write_json(report_dir / "prepare.json", report)
    write_text_atomic(report_dir / "prepare.md", _markdown(report))
    log.info("prepare: %d tickets in, %d kept, %d dropped, %d quarantined; %d KB articles",
             report["records_in"], tickets_kept, len(dropped), len(quarantined), len(kb))
    return report


def _read_tickets(path: Path):
    """Yield (line_no, raw_text, record_or_None, error_or_None) for each record of one export file."""
    if not path.exists():
        raise PrepareError(f"{path}: file not found (listed in data.tickets)")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield 0, "", None, f"not_utf8: undecodable byte at offset {exc.start}; re-export as UTF-8"
        return
    if not text.strip():
        yield 0, "", None, "empty_file: no records"
        return
    if path.suffix == ".jsonl":
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield line_no, line, None, f"invalid_json: {exc.msg} at column {exc.colno}"
                continue
            if not isinstance(record, dict):
                yield line_no, line, None, f"not_an_object: expected a JSON object, got {type(record).__name__}"
                continue
            yield line_no, line, record, None
    elif path.suffix == ".csv":
        reader = csv.DictReader(text.splitlines(keepends=True))
        header = reader.fieldnames or []
        missing = [f for f in TICKET_FIELDS if f not in header]
        if missing:
            yield 1, ",".join(header), None, f"csv_missing_columns: header lacks required column(s) {missing}; has {header}"
            return
        for row in reader:
            line_no = reader.line_num
            if None in row:  # more cells than header columns
                yield line_no, json.dumps(row, default=str), None, f"csv_extra_cells: row has {len(header) + len(row[None])} cells, header has {len(header)}"
                continue
            if any(v is None for v in row.values()):
                yield line_no, json.dumps(row), None, f"csv_missing_cells: row has fewer cells than the {len(header)} header columns"
                continue
            yield line_no, json.dumps(row), row, None
    else:
        raise PrepareError(f"{path}: unsupported export format {path.suffix!r} (use .jsonl or .csv)")


def _validate(record: dict, labels: set[str]) -> str | None:
    for field in TICKET_FIELDS:
        if field not in record or record[field] is None:
            return f"missing_field: {field!r}"
        if not isinstance(record[field], str):
            return f"not_text: field {field!r} is {type(record[field]).__name__}"
    for field in ("customer_message", "agent_reply"):
        if not re.search(r"[A-Za-z]{2,}", record[field]):
            return f"no_text: field {field!r} is empty or has no words"
    if record["category"] not in labels:
        return f"unknown_category: {record['category']!r} is not one of data.labels"
    return None


def _to_ticket(record: dict, path: Path, line_no: int, do_redact: bool, pii: Counter) -> dict:
    ticket = {k: record.get(k) for k in OPTIONAL_FIELDS}
    ticket.update({k: record[k] for k in TICKET_FIELDS})
    for field in TEXT_FIELDS:
        value = (ticket.get(field) or "").strip()
        ticket[field] = redact(value, pii) if do_redact else value
    ticket["id"] = str(record.get("ticket_id") or f"{path.name}:{line_no}")
    ticket.update(kind="ticket", source=str(path), line=line_no)
    return ticket


def _content_key(ticket: dict) -> str:
    norm = " ".join(re.sub(r"[^\w\s<>]", " ", f"{ticket['customer_message']} || {ticket['agent_reply']}".lower()).split())
    return hashlib.sha256(norm.encode()).hexdigest()


def _read_kb(kb_dir: Path, do_redact: bool, pii: Counter) -> list[dict]:
    articles = []
    for path in sorted(kb_dir.glob("*.md")):
        text = path.read_text(encoding="utf-8-sig").strip()
        title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), path.stem)
        articles.append({"id": f"kb:{path.stem}", "kind": "kb", "source": str(path), "line": 1,
                         "title": title, "text": redact(text, pii) if do_redact else text})
    return articles


def _report(per_file, quarantined, dropped, kept, kb, pii, tickets) -> dict:
    records_in = sum(c["in"] for c in per_file.values())
    report = {
        "records_in": records_in,
        "kept": kept,
        "dropped": len(dropped),
        "quarantined": len(quarantined),
        "kb_articles": kb,
        "dropped_by_reason": dict(Counter(d["reason"] for d in dropped)),
        "quarantined_by_reason": dict(Counter(q["reason"].split(":")[0] for q in quarantined)),
        "pii_redacted": dict(sorted(pii.items())),
        "labels": dict(sorted(Counter(t["category"] for t in tickets).items())),
        "files": {f: {k: c[k] for k in ("in", "kept", "dropped", "quarantined")} for f, c in per_file.items()},
    }
    assert records_in == kept + len(dropped) + len(quarantined), "record accounting does not add up"
    return report


def _markdown(report: dict) -> str:
    lines = ["# Data report: prepare", "",
             f"Records in: **{report['records_in']}** = kept {report['kept']} + dropped {report['dropped']}"
             f" + quarantined {report['quarantined']}. KB articles: {report['kb_articles']}.", "",
             "| file | in | kept | dropped | quarantined |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {f} | {c['in']} | {c['kept']} | {c['dropped']} | {c['quarantined']} |" for f, c in report["files"].items()]
    for title, key in (("Dropped by reason", "dropped_by_reason"), ("Quarantined by reason", "quarantined_by_reason"),
                       ("PII redacted (by type)", "pii_redacted"), ("Labels kept", "labels")):
        lines += ["", f"## {title}", ""] + [f"- {k}: {v}" for k, v in report[key].items()] + (["- none"] if not report[key] else [])
    return "\n".join(lines) + "\n"
