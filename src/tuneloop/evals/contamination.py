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

What counts as common is decided by data the candidate cannot steer: where the referee gives it the base
branch's own training split (data/splits/reference_train.jsonl), frequent n-grams come from there, never
from the split the pull request hands over (repeating an item 30 times would otherwise make it "common").
And no n-gram of a frozen item (the regression suite, the probes) is ever exempt: the exemption applies to
the test split only.

The probes get a stricter test (`contamination.probes`): the training mix carries safety examples built
from the company's policy (conf/policy) on purpose, and a template shared with a probe would be common
in training, so exempting common n-grams would hide exactly that copy. A probe is contaminated when it
is in training verbatim or when `item_overlap` (0.5) of its 8-grams occur in training text, no n-gram
exempt; the report names, per set, the highest overlap seen and the training example nearest to it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.data.overlap import TrainIndex, ngrams, normalize  # noqa: F401 (the guard's rule, shared with split)
from tuneloop.data.synth import source_text
from tuneloop.evals.near_duplicates import nearest_scores
from tuneloop.io import read_jsonl, write_json

log = logging.getLogger(__name__)

TRAIN_FILE = paths.TRAIN_SPLIT
TEST_FILE = paths.TEST_SPLIT
REGRESSION_FILE = paths.REGRESSION_FILE
PROBE_DIR = paths.PROBE_DIR
REPORT_FILE = paths.CONTAMINATION_REPORT
REFERENCE_FILE = paths.SPLIT_DIR / "reference_train.jsonl"  # the base branch's training split (the referee)
FROZEN = ("regression", "probes", "sealed")  # sets whose n-grams are never exempt
SEALED_ID = "(sealed: not shown)"


def example_text(example: dict) -> str:
    """The input side only: agent replies legitimately reuse macros, so identical answers are no leak."""
    return example["user"]


def eval_sets(
    test_file: Path, regression_file: Path, probe_dir: Path, sealed_file: Path | None = None
) -> dict[str, list[tuple[str, str]]]:
    """{set name: [(item id, text)]} for every evaluated set that exists (the sealed set: in the referee only)."""
    sets: dict[str, list[tuple[str, str]]] = {}
    if test_file.exists():
        sets["test"] = [(e["id"], example_text(e)) for e in read_jsonl(test_file)]
    if sealed_file is not None and sealed_file.exists():
        sets["sealed"] = [(e["id"], example_text(e)) for e in read_jsonl(sealed_file)]
    if regression_file.exists():
        sets["regression"] = [
            (c["id"], " ".join(str(c.get(k, "")) for k in ("subject", "text", "question")))
            for c in read_jsonl(regression_file)
        ]
    probes = sorted(probe_dir.glob("*.jsonl")) if probe_dir.exists() else []
    if probes:
        sets["probes"] = [(p["id"], p["prompt"]) for f in probes for p in read_jsonl(f)]
    return sets


def check(
    train_texts: list[str],
    sets: dict[str, Iterable[tuple[str, str]]],
    cfg: dict[str, Any],
    train_ids: list[str] | None = None,
    common_texts: list[str] | None = None,
) -> dict:
    index = TrainIndex(train_texts, int(cfg["ngram"]), float(cfg["ignore_common"]), common_from=common_texts)
    frozen = TrainIndex(train_texts, int(cfg["ngram"]), None)  # the regression suite: no n-gram exempt
    threshold, max_fraction = float(cfg["item_overlap"]), float(cfg["max_fraction"])
    strict_cfg = cfg.get("probes")  # probes: smaller n-grams, no common n-gram exempt
    strict = TrainIndex(train_texts, int(strict_cfg["ngram"]), None) if strict_cfg else None
    ids = train_ids or [str(i) for i in range(len(train_texts))]
    report: dict[str, Any] = {
        "ngram": index.n,
        "item_overlap": threshold,
        "max_fraction": max_fraction,
        "train_texts": len(train_texts),
        "common_ngrams_ignored": len(index.common),
        "common_from": "this training split" if common_texts is None else "the base branch's training split",
        "frozen_sets_exempt_nothing": list(FROZEN),
        "sets": {},
    }
    if strict is not None:
        report["probes_rule"] = {
            "ngram": strict.n,
            "item_overlap": float(strict_cfg["item_overlap"]),
            "common_ngrams_ignored": 0,
        }
    for name, items in sets.items():
        if name == "probes" and strict is not None:
            use, limit = strict, float(strict_cfg["item_overlap"])
        else:
            use, limit = (frozen if name in FROZEN else index), threshold
        flagged, total, top = [], 0, {"overlap": 0.0, "id": None, "train_id": None}
        for item_id, text in items:
            total += 1
            exact, fraction, near = use.nearest(text)
            if fraction > top["overlap"]:
                top = {
                    "overlap": round(fraction, 3),
                    "id": item_id,
                    "train_id": ids[near] if near is not None else None,
                }
            if exact or fraction >= limit:
                flagged.append(
                    {
                        "id": item_id,
                        "exact": exact,
                        "overlap": round(fraction, 3),
                        "train_id": ids[near] if near is not None else None,
                    }
                )
        fraction_flagged = len(flagged) / total if total else 0.0
        report["sets"][name] = {
            "items": total,
            "contaminated": len(flagged),
            "fraction": round(fraction_flagged, 4),
            "passed": fraction_flagged <= max_fraction,
            "max_overlap": top,
            "flagged": sorted(flagged, key=lambda f: f["id"]),
        }
    para = cfg.get("paraphrase")
    if para and common_texts is not None:
        _paraphrases(report, train_texts, sets, common_texts, para, ids)
    elif para:
        report["paraphrase_rule"] = {
            "status": "not run",
            "reason": "it needs the base branch's training split "
            "(the referee passes it): without it there is no baseline to exceed",
        }
    report["passed"] = all(s["passed"] for s in report["sets"].values())
    return report


def _paraphrases(report: dict, train_texts: list[str], sets: dict, reference: list[str], cfg: dict, ids) -> None:
    """A frozen item whose nearest training text (char n-gram TF-IDF cosine, IDF from the base's split) is
    at least `threshold` alike AND at least `margin` more alike than its nearest text in the base branch's
    own split: a paraphrase the candidate's split added. Measured: benchmarks/paraphrase_bench.py."""
    threshold, margin = float(cfg["threshold"]), float(cfg["margin"])
    report["paraphrase_rule"] = {
        "status": "run",
        "threshold": threshold,
        "margin": margin,
        "method": "char 3-5-gram TF-IDF cosine, excess over the base's split",
    }
    contents = [source_text(t) for t in train_texts]
    base = [source_text(t) for t in reference]
    for name in FROZEN:
        if name not in sets or name not in report["sets"]:
            continue
        items = list(sets[name])
        now = nearest_scores(contents, items, base)
        before = nearest_scores(base, items, base)
        entry = report["sets"][name]
        known = {f["id"] for f in entry["flagged"]}
        for (item_id, _), (score, j), (was, _) in zip(items, now, before):
            if score >= threshold and score - was >= margin and item_id not in known:
                entry["flagged"].append(
                    {
                        "id": item_id,
                        "exact": False,
                        "paraphrase": round(score, 3),
                        "base_score": round(was, 3),
                        "train_id": ids[j] if j is not None else None,
                    }
                )
        entry["flagged"].sort(key=lambda f: f["id"])
        entry["contaminated"] = len(entry["flagged"])
        entry["fraction"] = round(len(entry["flagged"]) / entry["items"], 4) if entry["items"] else 0.0
        entry["passed"] = entry["fraction"] <= report["max_fraction"]


def run(
    params: dict[str, Any],
    train_file: str | Path = TRAIN_FILE,
    test_file: str | Path = TEST_FILE,
    regression_file: str | Path = REGRESSION_FILE,
    probe_dir: str | Path = PROBE_DIR,
    report_file: str | Path = REPORT_FILE,
    reference_file: str | Path = REFERENCE_FILE,
    sealed_file: str | Path = paths.SEALED_SPLIT,
) -> dict:
    train = read_jsonl(train_file)
    reference = [example_text(e) for e in read_jsonl(reference_file)] if Path(reference_file).exists() else None
    report = check(
        [example_text(e) for e in train],
        eval_sets(Path(test_file), Path(regression_file), Path(probe_dir), Path(sealed_file)),
        params["eval"]["contamination"],
        [e["id"] for e in train],
        common_texts=reference,
    )
    report["train_by_task"] = dict(sorted(Counter(e["task"] for e in train).items()))  # safety: the policy's share
    sealed = report["sets"].get("sealed")
    if sealed:  # the sealed holdout's ids stay sealed: the PR's own example (train_id) is what it must fix
        for row in [*sealed["flagged"], sealed["max_overlap"]]:
            row["id"] = SEALED_ID if row.get("id") is not None else None
    write_json(report_file, report)
    for name, s in report["sets"].items():
        log.info(
            "guard %s: %d/%d items contaminated%s",
            name,
            s["contaminated"],
            s["items"],
            "" if s["passed"] else f" (over {report['max_fraction']:.2%}): {[f['id'] for f in s['flagged'][:10]]}",
        )
    return {k: v for k, v in report.items() if k != "sets"} | {
        "sets": {k: {kk: vv for kk, vv in v.items() if kk != "flagged"} for k, v in report["sets"].items()}
    }
