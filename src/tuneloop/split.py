"""Stage `split`: seeded, stratified train/val/test split by ticket, with a leakage check.

    tuneloop split       # data/examples.jsonl -> data/splits/{train,val,test}.jsonl, reports/data/split.json

Tickets (groups) are assigned whole: a ticket's classify and reply examples land in the same split.
Within each category, tickets are shuffled with `seed` and cut by data.split fractions, so the label
balance is the same in every split. Same inputs + same seed -> byte-identical files.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from tuneloop.io import read_jsonl, write_json, write_jsonl

log = logging.getLogger(__name__)

IN_FILE = Path("data/examples.jsonl")
OUT_DIR = Path("data/splits")
REPORT = Path("reports/data/split.json")
SPLITS = ("train", "val", "test")


class LeakageError(RuntimeError):
    pass


def assign_groups(examples: list[dict], fractions: dict[str, float], seed: int) -> dict[str, str]:
    """Map each group (ticket id) to a split, stratified by its label."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for group, label in sorted({(e["group"], e["label"]) for e in examples}):
        by_label[label].append(group)
    rng = random.Random(seed)
    assignment = {}
    for label in sorted(by_label):
        groups = by_label[label]
        rng.shuffle(groups)
        n_test = round(len(groups) * fractions["test"])
        n_val = round(len(groups) * fractions["val"])
        for i, group in enumerate(groups):
            assignment[group] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return assignment


def check_leakage(splits: dict[str, list[dict]]) -> None:
    """No ticket and no identical prompt may appear in both training and evaluation splits."""
    train_groups = {e["group"] for e in splits["train"]}
    train_prompts = {e["user"] for e in splits["train"]}
    for name in ("val", "test"):
        shared = sorted({e["group"] for e in splits[name]} & train_groups)
        same_prompt = sorted(e["id"] for e in splits[name] if e["user"] in train_prompts)
        if shared or same_prompt:
            raise LeakageError(f"train/{name} leakage: shared tickets {shared[:5]}, identical prompts {same_prompt[:5]}")


def run(params: dict[str, Any], in_file: str | Path = IN_FILE, out_dir: str | Path = OUT_DIR,
        report_file: str | Path = REPORT) -> dict:
    examples = read_jsonl(in_file)
    fractions = params["data"]["split"]
    if abs(sum(fractions[s] for s in SPLITS) - 1.0) > 1e-6:
        raise ValueError(f"data.split fractions must add up to 1, got {fractions}")
    assignment = assign_groups(examples, fractions, int(params["seed"]))
    splits: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for example in examples:
        splits[assignment[example["group"]]].append(example)
    check_leakage(splits)
    for name, rows in splits.items():
        write_jsonl(Path(out_dir) / f"{name}.jsonl", rows)
    report = {name: {"examples": len(rows), "tickets": len({e["group"] for e in rows}),
                     "tasks": dict(sorted(Counter(e["task"] for e in rows).items())),
                     "labels": dict(sorted(Counter(e["label"] for e in rows if e["task"] == "classify").items()))}
              for name, rows in splits.items()}
    write_json(report_file, report)
    log.info("split: %s", {k: v["examples"] for k, v in report.items()})
    return report
