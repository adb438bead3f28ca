"""The guard's paraphrase check, measured: recall on paraphrased frozen items planted in an honest training
split, and false alarms on honest splits, at several thresholds; the n-gram rule beside it.

    PATH=.venv/bin:$PATH python benchmarks/paraphrase_bench.py [--splits data/splits] [--repeat 30]

Needs the default run's splits (`make run`, or `dvc repro split`). Frozen items: evals/regression and
evals/probes. Paraphrases (seeded): every 6th word dropped; synonym swaps; clauses reordered; all three.
Each is planted in the training split wrapped in an instruction (no exact copy), --repeat times.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

from tuneloop.data.overlap import TrainIndex
from tuneloop.data.synth import source_text
from tuneloop.evals.near_duplicates import nearest_scores

SYNONYMS = {
    "order": "purchase",
    "charged": "billed",
    "refund": "reimbursement",
    "arrived": "shown up",
    "broken": "faulty",
    "help": "assist",
    "want": "would like",
    "need": "require",
    "account": "profile",
    "can't": "cannot",
    "phone": "mobile",
    "email": "e-mail",
    "app": "application",
    "fix": "sort out",
    "got": "received",
    "please": "kindly",
    "problem": "issue",
    "again": "once more",
    "stopped": "quit",
    "working": "functioning",
    "tell": "let me know",
    "send": "ship",
    "new": "fresh",
    "still": "yet",
    "since": "ever since",
}
THRESHOLDS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def drop_sixth(text: str, rng: random.Random) -> str:
    words = text.split()
    return " ".join(w for i, w in enumerate(words, 1) if i % 6)


def swap_synonyms(text: str, rng: random.Random) -> str:
    return " ".join(SYNONYMS.get(w.lower().strip(".,?!"), w) if rng.random() < 0.8 else w for w in text.split())


def reorder(text: str, rng: random.Random) -> str:
    parts = [p for p in re.split(r"(?<=[.,;?!])\s+", text) if p]
    if len(parts) < 2:
        words = text.split()
        half = len(words) // 2
        return " ".join(words[half:] + words[:half])
    rng.shuffle(parts)
    return " ".join(parts)


def all_three(text: str, rng: random.Random) -> str:
    return drop_sixth(reorder(swap_synonyms(text, rng), rng), rng)


TRANSFORMS = {
    "drop every 6th word": drop_sixth,
    "synonym swaps": swap_synonyms,
    "clauses reordered": reorder,
    "all three": all_three,
}


def frozen_items(repo: Path) -> list[tuple[str, str]]:
    items = []
    for line in (repo / "evals/regression/cases.jsonl").read_text().splitlines():
        c = json.loads(line)
        items.append((c["id"], " ".join(str(c.get(k) or "") for k in ("subject", "text", "question")).strip()))
    for f in sorted((repo / "evals/probes").glob("*.jsonl")):
        items += [(p["id"], p["prompt"]) for p in map(json.loads, f.read_text().splitlines())]
    return items


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--splits", default="data/splits")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    repo, splits = Path("."), Path(args.splits)
    if not (splits / "train.jsonl").exists():
        raise SystemExit(f"{splits}/train.jsonl missing: run `make run` (or `dvc repro split`) first")
    train = [source_text(json.loads(x)["user"]) for x in (splits / "train.jsonl").read_text().splitlines()]
    test = [
        (json.loads(x)["id"], source_text(json.loads(x)["user"]))
        for x in (splits / "test.jsonl").read_text().splitlines()
    ]
    items = frozen_items(repo)
    print(
        f"training split: {len(train)} texts; frozen items: {len(items)}; test split: {len(test)}; "
        f"planted {args.repeat}x each, wrapped in an instruction"
    )
    t0 = time.perf_counter()
    honest_frozen = [s for s, _ in nearest_scores(train, items, train)]
    honest_test = [s for s, _ in nearest_scores(train, test, train)]
    print(f"honest scoring: {time.perf_counter() - t0:.1f} s for {len(items) + len(test)} items")
    rows = {
        "false alarms: frozen items vs the honest split": honest_frozen,
        "false alarms: test split vs the honest split": honest_test,
    }
    ngram, excess = {}, {}
    val = [source_text(json.loads(x)["user"]) for x in (splits / "val.jsonl").read_text().splitlines()]
    grown = [s for s, _ in nearest_scores(train + val, items, train)]  # an honest PR that adds new data
    excess["false alarms: the PR adds honest new data (the val split)"] = [
        g - b for g, b in zip(grown, honest_frozen) if g >= 0.7
    ] + [0.0] * sum(g < 0.7 for g in grown)
    for name, fn in TRANSFORMS.items():
        rng = random.Random(f"{args.seed}:{name}")
        para = [(i, fn(t, rng)) for i, t in items]
        planted = train + [f"Please classify this message, case {k}: {p}" for _, p in para for k in range(args.repeat)]
        scores = nearest_scores(planted, items, train)  # IDF from the honest (base) split, as the referee does
        rows[f"recall: {name}"] = [s for s, _ in scores]
        excess[f"recall: {name}"] = [(s - b) if s >= 0.7 else 0.0 for (s, _), b in zip(scores, honest_frozen)]
        index = TrainIndex(planted, 13, 0.01, common_from=train)
        ngram[name] = sum(index.overlap(t)[0] or index.overlap(t)[1] >= 0.8 for _, t in items) / len(items)
    print("\n| share of items at or over the threshold | " + " | ".join(f"{t:.2f}" for t in THRESHOLDS) + " |")
    print("|---|" + "---:|" * len(THRESHOLDS))
    for name, scores in rows.items():
        print(
            f"| {name} | " + " | ".join(f"{sum(s >= t for s in scores) / len(scores):.3f}" for t in THRESHOLDS) + " |"
        )
    # a company's suite is drawn from the held-out split (suite init): items as alike to training as the test split
    drawn = test[:160]
    drawn_base = [s for s, _ in nearest_scores(train, drawn, train)]
    drawn_grown = [s for s, _ in nearest_scores(train + val, drawn, train)]
    excess["false alarms, drawn suite: the PR adds honest new data"] = [
        (g - b) if g >= 0.7 else 0.0 for g, b in zip(drawn_grown, drawn_base)
    ]
    rng = random.Random(f"{args.seed}:drawn")
    para = [all_three(t, rng) for _, t in drawn]
    planted = train + [f"Please classify this message, case {k}: {p}" for p in para for k in range(args.repeat)]
    excess["recall, drawn suite: all three"] = [
        (s - b) if s >= 0.7 else 0.0 for (s, _), b in zip(nearest_scores(planted, drawn, train), drawn_base)
    ]
    margins = (0.02, 0.05, 0.1, 0.15)
    print("\nthe referee's rule: cosine >= 0.70 against the PR's split AND >= margin over the base's split")
    print("| share flagged, by margin | " + " | ".join(f"{m:.2f}" for m in margins) + " |")
    print("|---|" + "---:|" * len(margins))
    for name, values in excess.items():
        print(f"| {name} | " + " | ".join(f"{sum(v >= m for v in values) / len(values):.3f}" for m in margins) + " |")
    print(
        "\nthe 13-gram rule alone (common n-grams from the honest split), recall per paraphrase: "
        + ", ".join(f"{k} {v:.3f}" for k, v in ngram.items())
    )


if __name__ == "__main__":
    main()
