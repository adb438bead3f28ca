"""Summaries of redaction entries for the data report: counts by type and field, never values."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any


def summarize(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts for the data report: total, by type, by field (turns[3].text counts as turns[].text),
    by field and type, and how many records had any PII. Values never appear in entries."""
    entries = list(entries)
    field_of = lambda e: re.sub(r"\[\d+\]", "[]", e["field"])  # noqa: E731
    by_field_type: dict[str, Counter] = {}
    for e in entries:
        by_field_type.setdefault(field_of(e), Counter())[e["type"]] += 1
    return {
        "total": len(entries),
        "records_with_pii": len({e["id"] for e in entries}),
        "by_type": dict(sorted(Counter(e["type"] for e in entries).items())),
        "by_field": dict(sorted(Counter(field_of(e) for e in entries).items())),
        "by_field_type": {f: dict(sorted(c.items())) for f, c in sorted(by_field_type.items())},
    }
