"""Stage `prepare`: read the raw exports into one record schema, validate, redact, dedup, quarantine.

    tuneloop prepare     # data/raw -> data/prepared/{records,quarantine,dropped}.jsonl, reports/data/prepare.{json,md}

The sources are conf/data's `tickets` / `kb_dir` shorthand and `sources:` list, read through
tuneloop.data.importers (formats and mapping keys: docs/data-sources.md). Quarantine reasons read
`code: detail` (invalid_json, missing_field, unknown_category, no_text, empty_file, not_utf8,
csv_missing_columns, record_too_large, corrupt_file, duplicate_id, ...); the report counts them by code.
Every input item ends in exactly one place: kept, dropped (with a reason, e.g. an exact duplicate)
or quarantined (unreadable or invalid, with the file, locator and reason). The report's counts add up,
per file and in total: records_in == kept + dropped + quarantined for records (tickets, calls,
ready-made examples), and documents.chunks_in == kept + dropped + quarantined for KB chunks.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.data.charts import token_lengths, write_data_chart
from tuneloop.data.clean import clean_records
from tuneloop.data.importers import (  # noqa: F401 (ConfigError for callers)
    ConfigError,
    family,
    read_source,
    sources_from_config,
)
from tuneloop.data.importers.fields import thread_fields
from tuneloop.data.pii import Redactor, make_redactor, summarize
from tuneloop.data.quality import QualityConfig, score_record
from tuneloop.io import write_json, write_jsonl, write_text_atomic

log = logging.getLogger(__name__)

OUT_DIR = paths.PREPARED_DIR
REPORT_DIR = paths.DATA_REPORTS


# Fewer usable records than this trains an adapter that mostly memorizes: say so, and what to do instead.
OVERFIT_WARNING_BELOW = 500
# Cleaning that removes more than this share of one label's records is said in the report and warned:
# the rules may not fit this company's data (e.g. a length floor on short messages).
LABEL_LOSS_WARNING = 0.2


class PrepareError(RuntimeError):
    pass


def run(params: dict[str, Any], out_dir: str | Path = OUT_DIR, report_dir: str | Path = REPORT_DIR) -> dict:
    data = params["data"]
    labels = set(data["labels"]) | ({data["out_of_scope_label"]} if data.get("out_of_scope_label") else set())
    setup = _setup(params)  # (redactor or None, quality config); worker processes build their own
    redactor = setup[0]
    records: list[dict] = []  # everything readable and valid: tickets, transcripts, examples, KB chunks
    quarantined: list[dict] = []
    dropped: list[dict] = []
    redactions: list[dict] = []  # {id, field, type, start, end}: where PII was replaced, never the value
    per_file: dict[str, Counter] = {}
    families: dict[str, str] = {}
    ids: dict[str, tuple[str, dict]] = {}  # record id -> ("file:locator", record) of the first record with it

    sources = sources_from_config(data)  # ConfigError (naming the source) on a bad source entry
    read: list[tuple[Any, str | None]] = []  # (item, error) in input order
    for source in sources:
        for item in read_source(source, data):
            per_file.setdefault(item.source, Counter())["in"] += 1
            families[item.source] = family(source)
            read.append((item, item.error or _validate(item.record, labels)))

    # Redaction and quality scoring are the costly steps (~1 ms a ticket): spread over data.num_proc
    # workers, input order kept, so the output is byte-identical whatever the number of workers.
    valid = [item.record for item, error in read if error is None]
    processed = _process_all(valid, params, _workers(data, len(valid)), setup)
    valid_iter = iter(processed)
    scores: list = []  # the quality result of each record kept below, in order (for clean_records)

    for item, error in read:
        counts = per_file[item.source]
        record, entries, quality = next(valid_iter) if error is None else (None, [], None)
        if record is not None and record["id"] in ids:
            where, first = ids[record["id"]]
            if _content_key(record) == _content_key(first):  # the same record exported twice
                counts["dropped"] += 1
                dropped.append(
                    {
                        "id": record["id"],
                        "kind": record["kind"],
                        "source": item.source,
                        "locator": item.locator,
                        "reason": "exact_duplicate",
                        "duplicate_of": record["id"],
                        "jaccard": 1.0,
                    }
                )
                continue
            error = f"duplicate_id: id {record['id']!r} is already used by {where}"
        if error is not None:
            counts["quarantined"] += 1
            raw = redactor.redact(item.raw_excerpt)[0] if redactor else item.raw_excerpt
            quarantined.append({"source": item.source, "locator": item.locator, "reason": error, "raw": raw[:2000]})
            log.debug("quarantined %s:%s: %s", item.source, item.locator, error.split(":")[0])
            continue
        ids[record["id"]] = (f"{item.source}:{item.locator}", record)
        counts["kept"] += 1
        records.append(record)
        redactions += entries
        scores.append(quality)

    # Apply the quality scores (low-quality records dropped, boilerplate-stripped text kept), then
    # remove exact and near duplicates.
    label_by_id = {r["id"]: label_of(r) for r in records if label_of(r) is not None}
    records, cleaned_out, clean_report = clean_records(records, params, scores)
    for entry in cleaned_out:
        per_file[entry["source"]]["kept"] -= 1
        per_file[entry["source"]]["dropped"] += 1
    dropped += cleaned_out
    kept = [r for r in records if r["kind"] != "kb"]
    kb = [r for r in records if r["kind"] == "kb"]

    usable = len(kept)
    minimum = int(data.get("min_examples", 10))
    if usable < minimum:
        names = [s["path"] for s in sources if family(s) == "records"]
        raise PrepareError(
            f"only {usable} usable tickets or records in {names} (need at least {minimum}); "
            f"see the reasons in {Path(out_dir) / 'quarantine.jsonl'} and {Path(out_dir) / 'dropped.jsonl'}"
        )
    label_loss = _label_loss(label_by_id, cleaned_out)
    warnings = [
        f"cleaning removed {e['dropped']} of {e['in']} records labelled {label!r} ({e['share']:.0%}): "
        f"{', '.join(f'{r} {n}' for r, n in e['reasons'].items())}; check conf/clean if these are ordinary data"
        for label, e in label_loss.items()
        if e["share"] > LABEL_LOSS_WARNING
    ]
    for warning in warnings:
        log.warning("prepare: %s", warning)
    if usable < OVERFIT_WARNING_BELOW:
        warnings.append(
            f"only {usable} usable records (< {OVERFIT_WARNING_BELOW}): a fine-tuned adapter will likely "
            "overfit. With this little data, consider retrieval only (search the knowledge base and "
            "tickets at answer time) and collect more history before fine-tuning."
        )
        log.warning("prepare: %s", warnings[-1])

    out_dir, report_dir = Path(out_dir), Path(report_dir)
    write_jsonl(out_dir / "quarantine.jsonl", quarantined)
    write_jsonl(out_dir / "dropped.jsonl", dropped)
    write_jsonl(out_dir / "records.jsonl", kept + kb)
    write_jsonl(report_dir / "redactions.jsonl", redactions)
    report = _report(per_file, families, quarantined, dropped, redactions, kept, kb, clean_report, warnings)
    report["label_loss"] = label_loss
    write_json(report_dir / "prepare.json", report)
    write_text_atomic(report_dir / "prepare.md", _markdown(report))
    write_data_chart(report, report_dir / "data.png")
    log.info(
        "prepare: %d records in, %d kept, %d dropped, %d quarantined; %d KB chunks from %d documents",
        report["records_in"],
        report["kept"],
        report["dropped"],
        report["quarantined"],
        report["documents"]["kept"],
        report["kb_articles"],
    )
    return report


def label_of(record: dict) -> str | None:
    return record.get("category") if record["kind"] in ("ticket", "transcript") else record.get("label")


def _label_loss(label_by_id: dict[str, str], cleaned_out: list[dict]) -> dict[str, dict]:
    """Per label that cleaning touched: records in, dropped, the share, and why (the first quality reason)."""
    before = Counter(label_by_id.values())
    reasons: dict[str, Counter] = {}
    for entry in cleaned_out:
        if entry["id"] in label_by_id:
            why = entry["quality"]["reasons"][0] if entry["reason"] == "low_quality" else entry["reason"]
            reasons.setdefault(label_by_id[entry["id"]], Counter())[why.split(":")[0]] += 1
    return {
        label: {
            "in": before[label],
            "dropped": sum(c.values()),
            "share": round(sum(c.values()) / before[label], 4),
            "reasons": dict(sorted(c.items())),
        }
        for label, c in sorted(reasons.items())
    }


def _validate(record: dict, labels: set[str]) -> str | None:
    """What the readers cannot know: whether a label is one of data.labels (or data.out_of_scope_label)."""
    label = record.get("category") if record["kind"] in ("ticket", "transcript") else record.get("label")
    if record["kind"] == "labelled_text" or label is not None:
        if label not in labels:
            hint = (
                ""
                if record.get("source_format") in ("tuneloop_jsonl", "tuneloop_csv")
                else " (map it to a label with the source's mapping.category_map)"
            )
            return f"unknown_category: {label!r} is not one of data.labels{hint}"
    return None


def _fields(record: dict) -> tuple[str, ...] | None:
    # customer_message / agent_reply are turns: redacted once there, so PII is not counted twice
    return ("subject", "turns[].text") if record["kind"] == "ticket" else None


def _redact_records(records: list[dict], redactor: Redactor) -> list[tuple[dict, list[dict]]]:
    """Redact every free-text field of each record, whatever its kind: (new record, report entries).
    One call for many records: the presidio engine batches its NER over all of them."""
    out = redactor.redact_records(records, _fields)
    for record, _ in out:
        if record["kind"] == "ticket":
            record["customer_message"], record["agent_reply"] = thread_fields(record["turns"])
    return out


PARALLEL_FROM = 2000  # below this many records a worker pool costs more than it saves
_worker: tuple[Redactor | None, QualityConfig] | None = None


def _workers(data: dict, n_records: int) -> int:
    wanted = data.get("num_proc") or "auto"
    wanted = (os.cpu_count() or 1) if wanted == "auto" else int(wanted)
    return max(1, wanted) if n_records >= PARALLEL_FROM else 1


def _setup(params: dict) -> tuple[Redactor | None, QualityConfig]:
    redactor = make_redactor(params.get("redact")) if params["data"].get("redact", True) else None
    return redactor, QualityConfig.from_params(params)


def _process(
    records: list[dict], redactor: Redactor | None, quality: QualityConfig
) -> list[tuple[dict, list[dict], Any]]:
    """Records: (redacted record, redaction entries, quality result of the redacted record) each."""
    pairs = _redact_records(records, redactor) if redactor else [(r, []) for r in records]
    return [(r, e, score_record(r, quality) if quality.enabled else None) for r, e in pairs]


def _init_worker(params: dict) -> None:
    global _worker
    _worker = _setup(params)


def _process_chunk(records: list[dict]) -> list[tuple[dict, list[dict], Any]]:
    return _process(records, *_worker)


def _process_all(
    records: list[dict], params: dict, workers: int, setup: tuple[Redactor | None, QualityConfig]
) -> list[tuple[dict, list[dict], Any]]:
    """_process for each record, in input order: here with `setup`, or on `workers` processes."""
    chunk = 256  # records per batch: one nlp.pipe over their texts (the same chunks whatever `workers` is)
    chunks = [records[i : i + chunk] for i in range(0, len(records), chunk)]
    if workers <= 1:
        return [out for part in chunks for out in _process(part, *setup)]
    import multiprocessing

    subset = {"data": params["data"], "redact": params.get("redact"), "clean": params.get("clean")}
    with multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker, initargs=(subset,)) as pool:
        return [out for part in pool.imap(_process_chunk, chunks) for out in part]


def _content_key(record: dict) -> str:
    """Normalized content of a record (case, punctuation and spacing ignored), to tell a record exported
    twice under one id from two different records sharing an id."""
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
    return f"{kind}|{norm}"


def _report(per_file, families, quarantined, dropped, redactions, kept, kb, clean_report, warnings) -> dict:
    def total(fam: str, key: str) -> int:
        return sum(c[key] for f, c in per_file.items() if families[f] == fam)

    pii = summarize(redactions)
    items_in = sum(c["in"] for c in per_file.values())
    duplicates = sum(1 for d in dropped if d["reason"] in ("exact_duplicate", "near_duplicate"))
    members = Counter(d["duplicate_of"] for d in dropped if d["reason"] in ("exact_duplicate", "near_duplicate"))
    cluster_sizes = dict(
        sorted(Counter(n + 1 for n in members.values()).items())
    )  # size (with the kept one) -> clusters
    report = {
        "records_in": total("records", "in"),
        "kept": total("records", "kept"),
        "dropped": total("records", "dropped"),
        "quarantined": total("records", "quarantined"),
        "kinds": dict(sorted(Counter(r["kind"] for r in kept).items())),
        "documents": {
            k: total("documents", key)
            for k, key in (
                ("chunks_in", "in"),
                ("kept", "kept"),
                ("dropped", "dropped"),
                ("quarantined", "quarantined"),
            )
        },
        "kb_articles": len({c["doc_id"] for c in kb}),
        "dropped_by_reason": dict(sorted(Counter(d["reason"] for d in dropped).items())),
        "quarantined_by_reason": dict(sorted(Counter(q["reason"].split(":")[0] for q in quarantined).items())),
        "duplicate_rate": round(duplicates / items_in, 4) if items_in else 0.0,
        "duplicate_cluster_sizes": {str(k): v for k, v in cluster_sizes.items()},
        "pii_redacted": pii["by_type"],
        "pii": {k: pii[k] for k in ("total", "records_with_pii", "by_field")},
        "quality": {
            k: clean_report[k]
            for k in ("quality_mean_score", "quality_reasons", "boilerplate_stripped", "duplicate_clusters")
        },
        "labels": dict(
            sorted(
                Counter(
                    r.get("category") or r.get("label")
                    for r in kept
                    if (r.get("category") or r.get("label")) is not None
                ).items()
            )
        ),
        "priorities": dict(sorted(Counter(r["priority"] for r in kept if r.get("priority")).items())),
        "token_lengths": token_lengths(kept),
        "source_formats": dict(sorted(Counter(r.get("source_format") or "?" for r in kept + kb).items())),
        "files": {f: {k: c[k] for k in ("in", "kept", "dropped", "quarantined")} for f, c in per_file.items()},
        "warnings": warnings,
    }
    assert report["records_in"] == report["kept"] + report["dropped"] + report["quarantined"], (
        "record accounting does not add up"
    )
    docs = report["documents"]
    assert docs["chunks_in"] == docs["kept"] + docs["dropped"] + docs["quarantined"], (
        "document accounting does not add up"
    )
    assert (
        len(quarantined) == report["quarantined"] + docs["quarantined"]
        and len(dropped) == report["dropped"] + docs["dropped"]
    )
    return report


def _markdown(report: dict) -> str:
    docs = report["documents"]
    lines = ["# Data report: prepare", ""]
    lines += [f"> **Warning:** {w}" for w in report["warnings"]] + ([""] if report["warnings"] else [])
    lines += [
        f"Records in: **{report['records_in']}** = kept {report['kept']} + dropped {report['dropped']}"
        f" + quarantined {report['quarantined']}. Documents: {report['kb_articles']} kept as {docs['kept']} KB chunks"
        f" ({docs['chunks_in']} in, {docs['dropped']} dropped, {docs['quarantined']} quarantined)."
        f" Duplicate rate: {report['duplicate_rate']:.1%}. PII replaced: {report['pii']['total']} spans in"
        f" {report['pii']['records_with_pii']} records (where: `reports/data/redactions.jsonl`, no values).",
        "",
        "| file | in | kept | dropped | quarantined |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {f} | {c['in']} | {c['kept']} | {c['dropped']} | {c['quarantined']} |" for f, c in report["files"].items()
    ]
    lengths = report["token_lengths"]
    sections = (
        ("Dropped by reason", report["dropped_by_reason"]),
        ("Quarantined by reason", report["quarantined_by_reason"]),
        ("Quality reasons (dropped records)", report["quality"]["quality_reasons"]),
        ("Boilerplate stripped (records)", report["quality"]["boilerplate_stripped"]),
        ("Duplicate clusters", report["quality"]["duplicate_clusters"]),
        ("Duplicate cluster sizes (records per cluster: clusters)", report["duplicate_cluster_sizes"]),
        ("PII redacted (by type)", report["pii_redacted"]),
        ("PII redacted (by field)", report["pii"]["by_field"]),
        ("Labels kept", report["labels"]),
        ("Priorities kept", report["priorities"]),
        ("Sources kept (by format)", report["source_formats"]),
        (
            f"Token lengths of kept records (median {lengths['median']}, p95 {lengths['p95']}, max {lengths['max']})",
            dict(zip(lengths["bins"], lengths["counts"])),
        ),
    )
    for title, values in sections:
        lines += (
            ["", f"## {title}", ""] + [f"- {k}: {v}" for k, v in values.items()] + (["- none"] if not values else [])
        )
    loss = report.get("label_loss") or {}
    lines += ["", f"## Records each label lost to cleaning (over {LABEL_LOSS_WARNING:.0%} warns)", ""]
    lines += [
        f"- {label}: {e['dropped']} of {e['in']} ({e['share']:.0%}): "
        + ", ".join(f"{r} {n}" for r, n in e["reasons"].items())
        for label, e in loss.items()
    ] or ["- none"]
    lines += ["", "Chart: `reports/data/data.png` (label balance and token lengths)."]
    return "\n".join(lines) + "\n"
