"""What `drift` compares: rows of {text, category, channel, priority, product} from the training split,
a fresh snapshot or the server's request log, and the request log's feedback events.

- reference: the prepared (redacted) records whose ids are the groups of data/splits/train.jsonl, i.e.
  exactly what the adapter was trained on; tickets and calls give their customer message, labelled texts
  their text.
- snapshot: a folder laid out like data/raw (conf/data's sources, their paths moved from data/raw to it),
  read by the same importers and redacted by the same redactor as `prepare`, before anything is counted.
- request log: answered requests (not shadows, not errors) give the last user message, without the
  classify instruction or a "Subject:" line, and, for classify requests, the label the model answered
  (prediction drift: there is no gold label in production). The server redacted it on write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.data.importers import read_source, sources_from_config
from tuneloop.data.importers.base import ConfigError
from tuneloop.data.importers.fields import thread_fields
from tuneloop.evals.metrics import parse_label
from tuneloop.io import read_jsonl
from tuneloop.monitor.signals import product_of
from tuneloop.prompts import Contract

log = logging.getLogger(__name__)

TEXT_KINDS = ("ticket", "transcript", "labelled_text")
RAW_DIR = paths.RAW_DIR


def row(record: dict[str, Any], products: dict[str, list[str]]) -> dict[str, Any] | None:
    """A prepared or imported record as the fields drift compares; None for kinds without a customer text."""
    kind = record.get("kind")
    if kind not in TEXT_KINDS:
        return None
    if kind == "labelled_text":
        text, category = record.get("text") or "", record.get("label")
    else:
        text = record.get("customer_message") or thread_fields(record.get("turns") or [])[0]
        category = record.get("category")
    if not text.strip():
        return None
    subject = record.get("subject") or ""
    return {
        "id": record.get("id"),
        "text": text,
        "subject": subject,
        "category": category,
        "channel": record.get("channel"),
        "priority": record.get("priority"),
        "product": product_of(f"{subject}\n{text}", products),
        "created_at": record.get("created_at"),
    }


def reference_rows(split_file: str | Path, records_file: str | Path, products: dict[str, list[str]]) -> list[dict]:
    # an example's ticket: `record` where its group is its customer's (data/history.py), else the group
    groups = {r.get("record") or r["group"] for r in read_jsonl(split_file)}
    rows = [row(r, products) for r in read_jsonl(records_file) if r.get("id") in groups]
    return [r for r in rows if r is not None]


def snapshot_sources(data: dict[str, Any], snapshot: str | Path, raw_dir: str | Path = RAW_DIR) -> list[dict]:
    """conf/data's record sources, moved from raw_dir to the snapshot; those it does not hold are left out."""
    snapshot, raw_dir = Path(snapshot), Path(raw_dir)
    out = []
    for source in sources_from_config({**data, "kb_dir": None}):
        path = Path(source["path"])
        try:
            moved = snapshot / path.relative_to(raw_dir)
        except ValueError:
            log.info("drift: %s is outside %s: not part of the snapshot", path, raw_dir)
            continue
        if moved.exists():
            out.append({**source, "path": str(moved)})
    return out


def snapshot_rows(
    data: dict[str, Any], snapshot: str | Path, products: dict[str, list[str]], redactor=None
) -> tuple[list[dict], dict[str, int]]:
    """(rows, counts) of a fresh snapshot, redacted; counts say how many records were read and unusable."""
    sources = snapshot_sources(data, snapshot)
    if not sources:
        raise ConfigError(
            f"{snapshot}: holds none of conf/data's record sources (moved from {RAW_DIR}): "
            f"nothing to compare; expected e.g. {Path(snapshot) / 'tickets.jsonl'}"
        )
    records, unusable = [], 0
    for source in sources:
        for item in read_source(source, data):
            if item.record is None:
                unusable += 1
            else:
                records.append(item.record)
    if redactor is not None:
        records = [r for r, _ in redactor.redact_records(records, None)]
    rows = [r for r in (row(rec, products) for rec in records) if r is not None]
    return rows, {"records": len(records) + unusable, "unusable": unusable, "rows": len(rows)}


def strip_prompt(message: str, labels: list[str] | Contract) -> tuple[str, bool]:
    """(the customer's text, whether it was a classify request) from a user message as the app sends it:
    the prompt contract reads its own prompts back (instruction, passages and Subject line removed)."""
    contract = labels if isinstance(labels, Contract) else Contract(system="", labels=tuple(labels or ()))
    text, task = contract.customer_text(message)
    return text, task == "classify"


def split_log(rows: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """(answered requests, feedback events) of a request log."""
    answered, feedback = [], []
    for r in rows:
        if r.get("event") == "feedback":
            feedback.append(r)
        elif r.get("status") == 200 and not r.get("shadow") and r.get("messages"):
            answered.append(r)
    return answered, feedback


def log_rows(answered: list[dict], labels: list[str], products: dict[str, list[str]]) -> list[dict]:
    out = []
    for r in answered:
        user = next((m.get("content") or "" for m in reversed(r["messages"]) if m.get("role") == "user"), "")
        text, is_classify = strip_prompt(user, labels)
        if not text:
            continue
        predicted = None
        if is_classify:
            i = parse_label(r.get("output") or "", labels)
            predicted = labels[i] if i >= 0 else None
        out.append(
            {
                "id": r.get("request_id"),
                "text": text,
                "category": predicted,
                "channel": None,
                "priority": None,
                "product": product_of(text, products),
                "created_at": r.get("ts"),
            }
        )
    return out


def read_log(path: str | Path) -> list[dict]:
    """The request log's lines; a line that is not JSON (a crash mid-write) is skipped, not fatal."""
    import json

    rows = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows
