"""Stage `prepare`: read the raw exports into one record schema, validate, redact, dedup, quarantine.

    tuneloop prepare     # data/raw -> data/prepared/{records,quarantine,dropped}.jsonl, reports/data/prepare.{json,md}

The sources are conf/data's `tickets` / `kb_dir` shorthand and `sources:` list, read through
tuneloop.importers (formats and mapping keys: docs/data-sources.md). Quarantine reasons read
`code: detail` (invalid_json, missing_field, unknown_category, no_text, empty_file, not_utf8,
csv_missing_columns, record_too_large, corrupt_file, duplicate_id, ...); the report counts them by code.
Every input item ends in exactly one place: kept, dropped (with a reason, e.g. an exact duplicate)
or quarantined (unreadable or invalid, with the file, locator and reason). The report's counts add up,
per file and in total: records_in == kept + dropped + quarantined for records (tickets, calls,
ready-made examples), and documents.chunks_in == kept + dropped + quarantined for KB chunks.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

from tuneloop.importers import ConfigError, family, read_source, sources_from_config  # noqa: F401 (ConfigError for callers)
from tuneloop.importers.base import thread_fields
from tuneloop.io import write_json, write_jsonl, write_text_atomic
from tuneloop.redact import redact

log = logging.getLogger(__name__)

OUT_DIR = Path("data/prepared")
REPORT_DIR = Path("reports/data")


class PrepareError(RuntimeError):
    pass


def run(params: dict[str, Any], out_dir: str | Path = OUT_DIR, report_dir: str | Path = REPORT_DIR) -> dict:
    data = params["data"]
    labels = set(data["labels"])
    do_redact = data.get("redact", True)
    kept: list[dict] = []      # records: tickets, transcripts, instruction/chat/labelled examples
    kb: list[dict] = []        # document chunks
    quarantined: list[dict] = []
    dropped: list[dict] = []
    pii = Counter()
    per_file: dict[str, Counter] = {}
    families: dict[str, str] = {}
    seen: dict[str, str] = {}  # normalized content hash -> id of the first record kept
    ids: dict[str, str] = {}   # record id -> "file:locator" of the record that has it

    sources = sources_from_config(data)  # ConfigError (naming the source) on a bad source entry
    for source in sources:
        for item in read_source(source, data):
            counts = per_file.setdefault(item.source, Counter())
            families[item.source] = family(source)
            counts["in"] += 1
            error = item.error or _validate(item.record, labels)
            record = None
            if error is None:
                record = _redact_record(item.record, pii) if do_redact else item.record
                key = _content_key(record)
                if key in seen:
                    counts["dropped"] += 1
                    dropped.append({"id": record["id"], "source": item.source, "locator": item.locator,
                                    "reason": "exact_duplicate", "duplicate_of": seen[key]})
                    continue
                if record["id"] in ids:
                    error = f"duplicate_id: id {record['id']!r} is already used by {ids[record['id']]}"
            if error is not None:
                counts["quarantined"] += 1
                quarantined.append({"source": item.source, "locator": item.locator, "reason": error,
                                    "raw": redact(item.raw_excerpt, Counter())[:2000]})
                log.debug("quarantined %s:%s: %s", item.source, item.locator, error.split(":")[0])
                continue
            ids[record["id"]] = f"{item.source}:{item.locator}"
            seen[key] = record["id"]
            counts["kept"] += 1
            (kb if record["kind"] == "kb" else kept).append(record)

    usable = len(kept)
    if usable < int(data.get("min_examples", 10)):
        names = [s["path"] for s in sources if family(s) == "records"]
        raise PrepareError(f"only {usable} usable tickets or records in {names} (need at least "
                           f"{data.get('min_examples', 10)}); see the reasons in {Path(out_dir) / 'quarantine.jsonl'}")

    out_dir, report_dir = Path(out_dir), Path(report_dir)
    write_jsonl(out_dir / "quarantine.jsonl", quarantined)
    write_jsonl(out_dir / "dropped.jsonl", dropped)
    write_jsonl(out_dir / "records.jsonl", kept + kb)
    report = _report(per_file, families, quarantined, dropped, pii, kept, kb)
    write_json(report_dir / "prepare.json", report)
    write_text_atomic(report_dir / "prepare.md", _markdown(report))
    log.info("prepare: %d records in, %d kept, %d dropped, %d quarantined; %d KB chunks from %d documents",
             report["records_in"], report["kept"], report["dropped"], report["quarantined"],
             report["documents"]["kept"], report["kb_articles"])
    return report


def _validate(record: dict, labels: set[str]) -> str | None:
    """What the readers cannot know: whether a label is one of data.labels."""
    label = record.get("category") if record["kind"] in ("ticket", "transcript") else record.get("label")
    if record["kind"] == "labelled_text" or label is not None:
        if label not in labels:
            hint = "" if record.get("source_format") in ("tuneloop_jsonl", "tuneloop_csv") else \
                " (map it to a label with the source's mapping.category_map)"
            return f"unknown_category: {label!r} is not one of data.labels{hint}"
    return None


def _redact_record(record: dict, pii: Counter) -> dict:
    """Redact every free-text field of a record, whatever its kind (counts go to `pii`)."""
    record = dict(record)
    kind = record["kind"]
    if kind in ("ticket", "transcript"):
        record["turns"] = [{**t, "text": redact(t["text"], pii)} for t in record["turns"]]
    if kind == "ticket":
        # customer_message / agent_reply are turns, redacted once there (so PII counts are not doubled)
        record["customer_message"], record["agent_reply"] = thread_fields(record["turns"])
        record["subject"] = redact(record["subject"], pii)
    elif kind == "kb":
        record.update(title=redact(record["title"], pii), section=redact(record["section"], pii), text=redact(record["text"], pii))
    elif kind == "instruction":
        record.update(prompt=redact(record["prompt"], pii), completion=redact(record["completion"], pii))
    elif kind == "chat":
        record["messages"] = [{**m, "content": redact(m["content"], pii)} for m in record["messages"]]
    elif kind == "labelled_text":
        record["text"] = redact(record["text"], pii)
    return record


def _content_key(record: dict) -> str:
    kind = record["kind"]
    if kind == "ticket":
        text = f"{record['customer_message']} || {record['agent_reply']}"
    elif kind == "transcript":
        text = " || ".join(t["text"] for t in record["turns"])
    elif kind == "chat":
        text = " || ".join(f"{m['role']}: {m['content']}" for m in record["messages"])
    elif kind == "instruction":
        text = f"{record['prompt']} || {record['completion']}"
    else:
        text = record["text"]
    norm = " ".join(re.sub(r"[^\w\s<>]", " ", text.lower()).split())
    return hashlib.sha256(f"{kind}|{norm}".encode() if kind != "ticket" else norm.encode()).hexdigest()


def _report(per_file, families, quarantined, dropped, pii, kept, kb) -> dict:
    def total(fam: str, key: str) -> int:
        return sum(c[key] for f, c in per_file.items() if families[f] == fam)

    report = {
        "records_in": total("records", "in"),
        "kept": total("records", "kept"),
        "dropped": total("records", "dropped"),
        "quarantined": total("records", "quarantined"),
        "kinds": dict(sorted(Counter(r["kind"] for r in kept).items())),
        "documents": {k: total("documents", key) for k, key in
                      (("chunks_in", "in"), ("kept", "kept"), ("dropped", "dropped"), ("quarantined", "quarantined"))},
        "kb_articles": len({c["doc_id"] for c in kb}),
        "dropped_by_reason": dict(Counter(d["reason"] for d in dropped)),
        "quarantined_by_reason": dict(Counter(q["reason"].split(":")[0] for q in quarantined)),
        "pii_redacted": dict(sorted(pii.items())),
        "labels": dict(sorted(Counter(r.get("category") or r.get("label") for r in kept
                                      if (r.get("category") or r.get("label")) is not None).items())),
        "files": {f: {k: c[k] for k in ("in", "kept", "dropped", "quarantined")} for f, c in per_file.items()},
    }
    assert report["records_in"] == report["kept"] + report["dropped"] + report["quarantined"], "record accounting does not add up"
    docs = report["documents"]
    assert docs["chunks_in"] == docs["kept"] + docs["dropped"] + docs["quarantined"], "document accounting does not add up"
    assert len(quarantined) == report["quarantined"] + docs["quarantined"] and len(dropped) == report["dropped"] + docs["dropped"]
    return report


def _markdown(report: dict) -> str:
    lines = ["# Data report: prepare", "",
             f"Records in: **{report['records_in']}** = kept {report['kept']} + dropped {report['dropped']}"
             f" + quarantined {report['quarantined']}. Documents: {report['kb_articles']} kept as {report['documents']['kept']} KB chunks"
             f" ({report['documents']['chunks_in']} in, {report['documents']['dropped']} dropped, {report['documents']['quarantined']} quarantined).", "",
             "| file | in | kept | dropped | quarantined |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {f} | {c['in']} | {c['kept']} | {c['dropped']} | {c['quarantined']} |" for f, c in report["files"].items()]
    for title, key in (("Dropped by reason", "dropped_by_reason"), ("Quarantined by reason", "quarantined_by_reason"),
                       ("PII redacted (by type)", "pii_redacted"), ("Labels kept", "labels")):
        lines += ["", f"## {title}", ""] + [f"- {k}: {v}" for k, v in report[key].items()] + (["- none"] if not report[key] else [])
    return "\n".join(lines) + "\n"
