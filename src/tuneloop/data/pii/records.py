"""Which fields of a prepared record hold free text (and so are redacted), by record kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Text fields per record kind (the shared schema of data/prepared/records.jsonl).
RECORD_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "ticket": ("subject", "customer_message", "agent_reply", "turns[].text"),
    "transcript": ("turns[].text",),
    "kb": ("title", "section", "text"),
    "instruction": ("prompt", "completion"),
    "chat": ("messages[].content",),
    "labelled_text": ("text",),
}
_METADATA_KEYS = frozenset({"id", "kind", "source", "locator", "source_format", "line", "category", "priority",
                            "status", "created_at", "channel", "label", "doc_id", "ticket_id", "approved"})


def fields_for(record: Mapping[str, Any]) -> list[str]:
    kind = record.get("kind")
    if kind in RECORD_TEXT_FIELDS:
        return list(RECORD_TEXT_FIELDS[kind])
    # Unknown kind (e.g. a raw export row): every top-level string that is not schema metadata.
    return sorted(k for k, v in record.items() if isinstance(v, str) and k not in _METADATA_KEYS)


def locate(record: dict[str, Any], path: str) -> list[tuple[str, Any, Any]]:
    """(field name as reported, container, key) for a path like "subject" or "turns[].text"."""
    if "[]." not in path:
        return [(path, record, path)] if path in record else []
    head, tail = path.split("[].", 1)
    items = record.get(head)
    if not isinstance(items, list):
        return []
    return [(f"{head}[{i}].{tail}", item, tail) for i, item in enumerate(items)
            if isinstance(item, dict) and tail in item]
