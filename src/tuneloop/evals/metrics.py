"""Per-item scoring shared by the lm-eval tasks (evals/tasks/utils.py) and the gate's bootstrap.

Every function scores one model output against one item; aggregation is a mean, except macro-F1.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Words too common in support replies to say anything about content (plus English function words).
STOPWORDS = frozenset(
    """
a about after again all also am an and any are as at be because been before being but by can could
did do does doing don for from further had has have having he her here hers him his how i if in into
is it its just let me more most my no nor not now of off on once only or other our ours out over own
please same she should so some such than thank thanks that the their theirs them then there these they
this those through to too under until up very was we were what when where which while who whom why
will with would you your yours hello hi there happy help sorry understand anything else need know
""".split()
)


def normalise_label(text: str) -> str:
    """Lowercase, every run of non-alphanumerics one underscore: "Card Arrival." -> "card_arrival"."""
    return _NON_ALNUM.sub("_", text.lower()).strip("_")


def parse_label(output: str, labels: list[str]) -> int:
    """Index of the label the answer names (normalised match), -1 if it names none.

    The answer's first line equal to a label wins; else the label found earliest as a whole token run
    ("_" boundaries), the longer one on a tie ("card_arrival" before "card"). -1 never equals a gold
    index: an unparseable answer is wrong, whatever the label set.
    """
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    first = normalise_label(lines[0]) if lines else ""
    normalised = [normalise_label(label) for label in labels]
    if first in normalised:
        return normalised.index(first)
    text = f"_{normalise_label(output)}_"
    found = [
        (text.find(f"_{label}_"), -len(label), i)
        for i, label in enumerate(normalised)
        if label and f"_{label}_" in text
    ]
    return min(found)[2] if found else -1


def label_correct(pred: int, gold: int) -> bool:
    return pred >= 0 and pred == gold


def macro_f1(items: list[tuple[int, int]]) -> float:
    """Unweighted mean of per-class F1 over the gold classes; a prediction of -1 (unparseable) is just wrong."""
    classes = sorted({g for g, _ in items})
    scores = []
    for c in classes:
        tp = sum(1 for g, p in items if g == c and p == c)
        fp = sum(1 for g, p in items if g != c and p == c)
        fn = sum(1 for g, p in items if g == c and p != c)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def in_scope_acc(items: list[tuple[int, int, int]]) -> float:
    """Accuracy over the items whose gold label is a real category, from (gold, pred, oos index) units
    (oos index -1: no out-of-scope answer configured, every item is in scope). NaN without such items."""
    scored = [pred == gold for gold, pred, oos in items if gold != oos]
    return sum(scored) / len(scored) if scored else float("nan")


def oos_recall(items: list[tuple[int, int, int]]) -> float:
    """Of the out-of-scope items (gold == oos index), the fraction answered out of scope; NaN without any
    (data.out_of_scope_label unset, or no out-of-scope query in the test split)."""
    scored = [pred == oos for gold, pred, oos in items if oos >= 0 and gold == oos]
    return sum(scored) / len(scored) if scored else float("nan")


@lru_cache(maxsize=1)
def _rouge():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(target: str, output: str) -> float:
    return _rouge().score(target, output.strip())["rougeL"].fmeasure


def keywords(text: str, limit: int = 12) -> list[str]:
    """The reference's content words (first `limit`, in order): numbers and non-stopwords of 4+ letters."""
    seen: list[str] = []
    for word in _WORD.findall(text.lower()):
        if (word.isdigit() or (len(word) >= 4 and word not in STOPWORDS)) and word not in seen:
            seen.append(word)
    return seen[:limit]


def keyword_coverage(target: str, output: str) -> float:
    """Fraction of the reference's key words that the output also uses (the facts a reply must carry)."""
    keys = keywords(target)
    if not keys:
        return 1.0
    said = set(_WORD.findall(output.lower()))
    return sum(k in said for k in keys) / len(keys)


def fact_match(facts: list[str], output: str) -> float:
    """1.0 when every fact string occurs in the output (case- and space-insensitive), else 0.0."""
    said = " ".join(output.lower().split())
    return float(all(" ".join(f.lower().split()) in said for f in facts))


def history_fact_used(facts: list[str], output: str) -> float:
    """1.0 when the output says any of the facts only the customer's earlier ticket gives (its number, the step
    already tried: data/history.py), whole words in order, case and punctuation ignored; else 0.0."""
    from tuneloop.data.history import contains

    return float(any(contains(output, fact) for fact in facts))
