"""Helpers for tuneloop's lm-eval tasks: select each task's docs, score items, aggregate."""

from __future__ import annotations

from rouge_score import rouge_scorer

_ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def classify_docs(dataset):
    return dataset.filter(lambda doc: doc["task"] == "classify")


def reply_docs(dataset):
    return dataset.filter(lambda doc: doc["task"] == "reply")


def parse_label(output: str, labels: list[str]) -> int:
    """Index of the label the answer names first (case/space-insensitive); -1 if it names none."""
    text = output.strip().lower().replace(" ", "_").replace("-", "_")
    found = [(text.find(label), -len(label), i) for i, label in enumerate(labels) if label in text]
    return min(found)[2] if found else -1


def classify_results(doc, results):
    pred, gold = parse_label(results[0], doc["choices"]), int(doc["gold"])
    return {"acc": float(pred == gold), "macro_f1": (gold, pred)}


def macro_f1(items):
    """Unweighted mean of per-class F1 over the gold classes (an unparseable answer, -1, is just wrong)."""
    classes = sorted({g for g, _ in items})
    scores = []
    for c in classes:
        tp = sum(1 for g, p in items if g == c and p == c)
        fp = sum(1 for g, p in items if g != c and p == c)
        fn = sum(1 for g, p in items if g == c and p != c)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def reply_results(doc, results):
    return {"rougeL": _ROUGE.score(doc["answer"], results[0].strip())["rougeL"].fmeasure}
