"""The training split's rows as the trainer takes them: read, capped per task (a seeded sample), as a dataset.

rows = load_split(path, {"classify": 360, "reply": 56, "reply_history": 24}, seed)
"""

from __future__ import annotations

import random
from pathlib import Path

from tuneloop.io import read_jsonl


def load_split(path: Path, limit: int | dict[str, int] | None, seed: int) -> list[dict]:
    """Read a split's examples; `limit` caps it (seeded sample), in total or per task."""
    rows = read_jsonl(path)
    if isinstance(limit, dict):
        rows = [
            r
            for stratum in sorted({sampling_stratum(r, limit) for r in rows})
            for r in _sample([r for r in rows if sampling_stratum(r, limit) == stratum], limit.get(stratum), seed)
        ]
        random.Random(seed).shuffle(rows)
    else:
        rows = _sample(rows, limit, seed)
    return rows


def sampling_stratum(row: dict, limit: dict) -> str:
    """The cap a row counts against: its task, except a returning customer's reply (one whose answer uses
    the earlier ticket: `history_facts`) when the preset caps `reply_history` apart. Sampled among all
    replies, the 15% of them that need the history were too few to teach it (the adapter stopped using the
    earlier ticket the base copied: history_fact 0.444 -> 0.056)."""
    if row["task"] == "reply" and row.get("history_facts") and "reply_history" in limit:
        return "reply_history"
    return row["task"]


def to_dataset(rows: list[dict]):
    from datasets import Dataset

    return Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])


def _sample(rows: list[dict], limit: int | None, seed: int) -> list[dict]:
    return random.Random(seed).sample(rows, int(limit)) if limit is not None and len(rows) > limit else rows
