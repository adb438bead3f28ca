"""Stage `guard`: contamination check between the training split and everything we evaluate on.

    tuneloop guard       # -> reports/contamination.json (the gate fails on it, naming the offending ids)

An evaluation item is *contaminated* when its normalized text appears verbatim in the training split
(exact), or when at least `item_overlap` of its 13-grams also occur in training text. Only the input
side (the user turn) is compared: answers legitimately repeat the agents' macros. Evaluated sets:
the test split, the frozen regression suite (evals/regression) and the behavioural probes (evals/probes).

Support text is full of shared boilerplate (the instruction templates, greetings, the support-hours
sign-off): a 13-gram that occurs in more than `ignore_common` of the training examples is a template,
not a leak, and is ignored on both sides (the same idea as GPT-3's contamination study dropping very
frequent n-grams). The gate fails when a set's contaminated fraction exceeds `max_fraction`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from tuneloop.io import read_jsonl, write_json

log = logging.getLogger(__name__)

TRAIN_FILE = Path("data/splits/train.jsonl")
TEST_FILE = Path("data/splits/test.jsonl")
REGRESSION_FILE = Path("evals/regression/cases.jsonl")
PROBE_DIR = Path("evals/probes")
REPORT_FILE = Path("reports/contamination.json")
_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> list[str]:
    """Lowercased word tokens; punctuation and spacing differences do not hide a copy."""
    return _WORD.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


class TrainIndex:
    """The training split's 13-grams (minus the common ones) and its exact texts."""

    def __init__(self, train_texts: list[str], n: int = 13, ignore_common: float = 0.01):
        self.n = n
        per_text = [ngrams(normalize(t), n) for t in train_texts]
        doc_freq = Counter(g for grams in per_text for g in grams)
        limit = max(2, int(ignore_common * len(train_texts)))
        self.common = {g for g, c in doc_freq.items() if c > limit}
        self.grams = set(doc_freq) - self.common
        self.exact = {" ".join(normalize(t)) for t in train_texts}

    def overlap(self, text: str) -> tuple[bool, float]:
        """(exact copy?, fraction of the item's non-common 13-grams seen in training)."""
        tokens = normalize(text)
        if " ".join(tokens) in self.exact:
            return True, 1.0
        grams = ngrams(tokens, self.n) - self.common
        if not grams:
            return False, 0.0
        return False, len(grams & self.grams) / len(grams)


def example_text(example: dict) -> str:
    """The input side only: agent replies legitimately reuse macros, so identical answers are no leak."""
    return example["user"]


def eval_sets(test_file: Path, regression_file: Path, probe_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """{set name: [(item id, text)]} for every evaluated set that exists."""
    sets: dict[str, list[tuple[str, str]]] = {}
    if test_file.exists():
        sets["test"] = [(e["id"], example_text(e)) for e in read_jsonl(test_file)]
    if regression_file.exists():
        sets["regression"] = [(c["id"], " ".join(str(c.get(k, "")) for k in ("subject", "text", "question")))
                              for c in read_jsonl(regression_file)]
    probes = sorted(probe_dir.glob("*.jsonl")) if probe_dir.exists() else []
    if probes:
        sets["probes"] = [(p["id"], p["prompt"]) for f in probes for p in read_jsonl(f)]
    return sets


def check(train_texts: list[str], sets: dict[str, Iterable[tuple[str, str]]], cfg: dict[str, Any]) -> dict:
    index = TrainIndex(train_texts, int(cfg["ngram"]), float(cfg["ignore_common"]))
    threshold, max_fraction = float(cfg["item_overlap"]), float(cfg["max_fraction"])
    report: dict[str, Any] = {"ngram": index.n, "item_overlap": threshold, "max_fraction": max_fraction,
                              "train_texts": len(train_texts), "common_ngrams_ignored": len(index.common), "sets": {}}
    for name, items in sets.items():
        flagged, total = [], 0
        for item_id, text in items:
            total += 1
            exact, fraction = index.overlap(text)
            if exact or fraction >= threshold:
                flagged.append({"id": item_id, "exact": exact, "overlap": round(fraction, 3)})
        fraction_flagged = len(flagged) / total if total else 0.0
        report["sets"][name] = {"items": total, "contaminated": len(flagged),
                                "fraction": round(fraction_flagged, 4), "passed": fraction_flagged <= max_fraction,
                                "flagged": sorted(flagged, key=lambda f: f["id"])}
    report["passed"] = all(s["passed"] for s in report["sets"].values())
    return report


def run(params: dict[str, Any], train_file: str | Path = TRAIN_FILE, test_file: str | Path = TEST_FILE,
        regression_file: str | Path = REGRESSION_FILE, probe_dir: str | Path = PROBE_DIR,
        report_file: str | Path = REPORT_FILE) -> dict:
    train_texts = [example_text(e) for e in read_jsonl(train_file)]
    report = check(train_texts, eval_sets(Path(test_file), Path(regression_file), Path(probe_dir)),
                   params["eval"]["contamination"])
    write_json(report_file, report)
    for name, s in report["sets"].items():
        log.info("guard %s: %d/%d items contaminated%s", name, s["contaminated"], s["items"],
                 "" if s["passed"] else f" (over {report['max_fraction']:.2%}): {[f['id'] for f in s['flagged'][:10]]}")
    return {k: v for k, v in report.items() if k != "sets"} | {
        "sets": {k: {kk: vv for kk, vv in v.items() if kk != "flagged"} for k, v in report["sets"].items()}}
