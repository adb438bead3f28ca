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

The probes get a stricter test (`contamination.probes`): the training mix carries safety examples built
from the company's policy (conf/policy) on purpose, and a template shared with a probe would be common
in training, so exempting common n-grams would hide exactly that copy. A probe is contaminated when it
is in training verbatim or when `item_overlap` (0.5) of its 8-grams occur in training text, no n-gram
exempt; the report names, per set, the highest overlap seen and the training example nearest to it.
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
    """The training split's n-grams (minus the common ones, unless ignore_common is None) and exact texts."""

    def __init__(self, train_texts: list[str], n: int = 13, ignore_common: float | None = 0.01):
        self.n = n
        per_text = [ngrams(normalize(t), n) for t in train_texts]
        doc_freq = Counter(g for grams in per_text for g in grams)
        limit = max(2, int(ignore_common * len(train_texts))) if ignore_common is not None else None
        self.common = {g for g, c in doc_freq.items() if c > limit} if limit is not None else set()
        self.grams = set(doc_freq) - self.common
        self.first = {}  # n-gram -> the first training text holding it (to name the nearest example)
        for i, grams in enumerate(per_text):
            for g in grams:
                self.first.setdefault(g, i)
        self.exact = {" ".join(normalize(t)): i for i, t in enumerate(train_texts)}

    def overlap(self, text: str) -> tuple[bool, float]:
        """(exact copy?, fraction of the item's non-common n-grams seen in training)."""
        return self.nearest(text)[:2]

    def nearest(self, text: str) -> tuple[bool, float, int | None]:
        """(exact copy?, overlap fraction, index of the training text sharing most of the item's n-grams)."""
        tokens = normalize(text)
        if " ".join(tokens) in self.exact:
            return True, 1.0, self.exact[" ".join(tokens)]
        grams = ngrams(tokens, self.n) - self.common
        if not grams:
            return False, 0.0, None
        seen = [g for g in grams if g in self.grams]
        where = Counter(self.first[g] for g in seen).most_common(1)
        return False, len(seen) / len(grams), where[0][0] if where else None


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


def check(train_texts: list[str], sets: dict[str, Iterable[tuple[str, str]]], cfg: dict[str, Any],
          train_ids: list[str] | None = None) -> dict:
    index = TrainIndex(train_texts, int(cfg["ngram"]), float(cfg["ignore_common"]))
    threshold, max_fraction = float(cfg["item_overlap"]), float(cfg["max_fraction"])
    strict_cfg = cfg.get("probes")  # probes: smaller n-grams, no common n-gram exempt
    strict = TrainIndex(train_texts, int(strict_cfg["ngram"]), None) if strict_cfg else None
    ids = train_ids or [str(i) for i in range(len(train_texts))]
    report: dict[str, Any] = {"ngram": index.n, "item_overlap": threshold, "max_fraction": max_fraction,
                              "train_texts": len(train_texts), "common_ngrams_ignored": len(index.common), "sets": {}}
    if strict is not None:
        report["probes_rule"] = {"ngram": strict.n, "item_overlap": float(strict_cfg["item_overlap"]),
                                 "common_ngrams_ignored": 0}
    for name, items in sets.items():
        use, limit = ((strict, float(strict_cfg["item_overlap"])) if name == "probes" and strict is not None
                      else (index, threshold))
        flagged, total, top = [], 0, {"overlap": 0.0, "id": None, "train_id": None}
        for item_id, text in items:
            total += 1
            exact, fraction, near = use.nearest(text)
            if fraction > top["overlap"]:
                top = {"overlap": round(fraction, 3), "id": item_id, "train_id": ids[near] if near is not None else None}
            if exact or fraction >= limit:
                flagged.append({"id": item_id, "exact": exact, "overlap": round(fraction, 3),
                                "train_id": ids[near] if near is not None else None})
        fraction_flagged = len(flagged) / total if total else 0.0
        report["sets"][name] = {"items": total, "contaminated": len(flagged),
                                "fraction": round(fraction_flagged, 4), "passed": fraction_flagged <= max_fraction,
                                "max_overlap": top, "flagged": sorted(flagged, key=lambda f: f["id"])}
    report["passed"] = all(s["passed"] for s in report["sets"].values())
    return report


def run(params: dict[str, Any], train_file: str | Path = TRAIN_FILE, test_file: str | Path = TEST_FILE,
        regression_file: str | Path = REGRESSION_FILE, probe_dir: str | Path = PROBE_DIR,
        report_file: str | Path = REPORT_FILE) -> dict:
    train = read_jsonl(train_file)
    report = check([example_text(e) for e in train], eval_sets(Path(test_file), Path(regression_file), Path(probe_dir)),
                   params["eval"]["contamination"], [e["id"] for e in train])
    report["train_by_task"] = dict(sorted(Counter(e["task"] for e in train).items()))  # safety: the policy's share
    write_json(report_file, report)
    for name, s in report["sets"].items():
        log.info("guard %s: %d/%d items contaminated%s", name, s["contaminated"], s["items"],
                 "" if s["passed"] else f" (over {report['max_fraction']:.2%}): {[f['id'] for f in s['flagged'][:10]]}")
    return {k: v for k, v in report.items() if k != "sets"} | {
        "sets": {k: {kk: vv for kk, vv in v.items() if kk != "flagged"} for k, v in report["sets"].items()}}
