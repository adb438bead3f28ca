"""Salesforce Cases as CSV: a Data Loader / Data Export of the Case object, or a report export.

Columns by API name (CaseNumber, Subject, Description, Priority, Status, Origin, Type, Reason,
CreatedDate, ...) or by report label (Case Number, Case Origin, Date/Time Opened, ...). CaseNumber and
Description are required. The Description is the customer's turn. Agent turns come from
  - mapping.comments_file: a CaseComment export (ParentId, CommentBody, IsPublished, CreatedDate) beside
    the cases; published comments whose ParentId is the case's Id become agent turns in date order,
  - mapping.reply_field: a column holding the agent's reply (e.g. a custom field Resolution__c).
`Comments` on the Case (label "Internal Comments") is internal and never used. Unpublished case
comments are dropped (meta.dropped_turns). Category: mapping.category_field, default Type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import ConfigError, Item, bad, good, safely
from tuneloop.data.importers.fields import customer_key, iso_time, map_category, priority_of, ticket_record
from tuneloop.data.importers.tabular import iter_csv_rows

ALIASES = {
    "case number": "CaseNumber",
    "case id": "Id",
    "case origin": "Origin",
    "case type": "Type",
    "case reason": "Reason",
    "date/time opened": "CreatedDate",
    "created date": "CreatedDate",
    "opened date": "CreatedDate",
    "subject": "Subject",
    "description": "Description",
    "priority": "Priority",
    "status": "Status",
    "internal comments": "Comments",
}
PRIORITY = {
    "low": "low",
    "medium": "normal",
    "normal": "normal",
    "high": "high",
    "urgent": "urgent",
    "critical": "urgent",
}


def read(path: Path, mapping: dict) -> Iterator[Item]:
    comments = _comments(path, mapping)
    for locator, raw, row, error in iter_csv_rows(
        path, mapping, required=("CaseNumber", "Description"), aliases=ALIASES
    ):
        if error is None:
            record, error = safely(to_ticket, row, locator, path, mapping, comments)
            if record is not None:
                yield good(locator, record, raw)
                continue
        yield bad(locator, error, raw)


def to_ticket(row: dict, line_no: int, path: Path, mapping: dict, comments: dict) -> tuple[dict | None, str | None]:
    number = (row.get("CaseNumber") or "").strip()
    if not number:
        return None, "missing_field: 'CaseNumber' is empty"
    turns = [{"role": "customer", "text": row.get("Description") or ""}]
    published = comments.get((row.get("Id") or "").strip(), ([], 0))
    turns += [{"role": "agent", "text": text} for text in published[0]]
    reply_field = mapping.get("reply_field")
    if reply_field and row.get(reply_field):
        turns.append({"role": "agent", "text": row[reply_field]})
    category, _ = map_category(row, mapping, default_field="Type")
    return ticket_record(
        path,
        line_no,
        "salesforce",
        f"salesforce:{number}",
        subject=row.get("Subject"),
        turns=turns,
        category=category,
        priority=priority_of(row.get("Priority"), PRIORITY, mapping),
        status=row.get("Status"),
        satisfaction=None,
        created_at=iso_time(row.get("CreatedDate")),
        channel=row.get("Origin"),
        tags=[],
        meta={"external_id": number, "reason": row.get("Reason") or None, "dropped_turns": published[1]},
        customer_id=customer_key("salesforce", (row.get("ContactId") or "").strip() or None, row.get("SuppliedEmail")),
    )


def _comments(path: Path, mapping: dict) -> dict[str, tuple[list[str], int]]:
    """ParentId -> (published comment bodies in date order, number of unpublished ones dropped)."""
    name = mapping.get("comments_file")
    if not name:
        return {}
    comments_path = (path.parent / name) if not Path(name).is_absolute() else Path(name)
    if not comments_path.is_file():
        raise ConfigError(f"{path}: mapping.comments_file {str(comments_path)!r} not found")
    by_case: dict[str, list[tuple[str, str]]] = defaultdict(list)
    dropped: dict[str, int] = defaultdict(int)
    for _, _, row, error in iter_csv_rows(comments_path, mapping, required=("ParentId", "CommentBody")):
        if error is not None or row is None:
            continue  # a broken comment row loses one agent turn, never the case
        parent = row["ParentId"].strip()
        if str(row.get("IsPublished", "true")).strip().lower() in ("false", "0", "no"):
            dropped[parent] += 1
        else:
            by_case[parent].append((iso_time(row.get("CreatedDate")) or "", row["CommentBody"]))
    return {
        case: ([body for _, body in sorted(items, key=lambda x: x[0])], dropped[case])
        for case, items in by_case.items()
    } | {case: ([], n) for case, n in dropped.items() if case not in by_case}
