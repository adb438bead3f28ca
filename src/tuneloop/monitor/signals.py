"""Drift statistics over plain lists: PSI per field, a domain classifier's AUC, new terms, label drift.

No files, no config: `drift` feeds these the training split's records and the fresh ones.

- PSI (population stability index) of a categorical field: sum over values of (cur - ref) * ln(cur / ref)
  on the two sides' shares, each share floored at `eps` so a value seen on one side only counts large but
  finite. Rule of thumb: below 0.1 stable, 0.1-0.25 a moderate shift, above 0.25 a large one.
- Domain classifier: can a model tell fresh texts from training texts? TF-IDF over word 1-2-grams and a
  logistic regression, scored by stratified k-fold cross-validated ROC AUC on a balanced sample (0.5: it
  cannot, 1.0: always). Its heaviest "fresh" words say what changed.
- New terms: words the fresh texts use at least `min_count` times that the training texts never contain;
  the rate is the share of fresh texts using one (one-off typos and names do not count). A small training
  split never holds every everyday word, so some rate is expected with no drift at all. The signal is the
  *excess* over that: held-out training texts against the rest of the split (the null: same distribution)
  and as many fresh texts against the same rest, averaged over a few seeded draws; the difference is what
  the fresh data adds beyond the sample's own novelty. Small samples are noisy (two shares of n texts each),
  so the signal also needs the excess above `noise`, the one-sided 95% bound of that difference by chance.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from typing import Any

WORD = re.compile(r"[a-z][a-z0-9'-]*[a-z0-9]|[a-z]")
PLACEHOLDER = re.compile(r"<[A-Z_]+>")  # the redactor's <EMAIL>, <PHONE>, ... are not words of the domain
OTHER = "other"


def shares(values: list[Any]) -> dict[str, float]:
    counts = Counter("(none)" if v is None else str(v) for v in values)
    total = sum(counts.values())
    return {k: counts[k] / total for k in sorted(counts)} if total else {}


def psi(reference: list[Any], current: list[Any], eps: float = 1e-4) -> dict[str, Any]:
    """PSI of one categorical field, with both sides' shares per value."""
    ref, cur = shares(reference), shares(current)
    if not ref or not cur:
        return {"psi": None, "reference": ref, "current": cur, "n_reference": len(reference), "n_current": len(current)}
    total = 0.0
    for value in sorted(set(ref) | set(cur)):
        r, c = max(ref.get(value, 0.0), eps), max(cur.get(value, 0.0), eps)
        total += (c - r) * math.log(c / r)
    return {
        "psi": round(total, 4),
        "reference": _round(ref),
        "current": _round(cur),
        "n_reference": len(reference),
        "n_current": len(current),
    }


def _round(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in d.items()}


def words(text: str) -> list[str]:
    return WORD.findall(PLACEHOLDER.sub(" ", text.lower()))


def _novelty(seen: set[str], current: list[str], min_count: int) -> tuple[float | None, set[str], Counter]:
    docs = [set(words(t)) for t in current]
    counts = Counter(w for d in docs for w in d if w not in seen)  # in how many fresh texts
    frequent = {w for w, n in counts.items() if n >= min_count}
    rate = sum(1 for d in docs if d & frequent) / len(docs) if docs else None
    return rate, frequent, counts


def novelty_baseline(
    reference: list[str], current: list[str], min_count: int = 3, seed: int = 0, draws: int = 5, min_texts: int = 20
) -> dict[str, Any]:
    """The new-term rate expected with no drift, and the fresh texts' rate on the same footing.

    Each draw holds out n = min(fresh, half the split) training texts; `null` is their rate against the rest
    of the split, `matched` the rate of n fresh texts against that same rest. Same vocabulary, same sample
    size, same min_count: the difference is the fresh data's own novelty.
    """
    n = min(len(current), len(reference) // 2)
    if n < min_texts:
        return {
            "null": None,
            "matched": None,
            "excess": None,
            "noise": None,
            "n": n,
            "note": f"too few texts for a baseline (need {min_texts} per side)",
        }
    rng = random.Random(seed)
    null, matched = [], []
    for _ in range(draws):
        ref = rng.sample(reference, len(reference))
        seen = {w for t in ref[n:] for w in words(t)}
        null.append(_novelty(seen, ref[:n], min_count)[0])
        matched.append(_novelty(seen, rng.sample(current, n), min_count)[0])
    mean_null, mean_matched = sum(null) / draws, sum(matched) / draws
    # the difference of two shares of n texts: what chance alone reaches 5% of the time (one-sided)
    noise = 1.645 * math.sqrt((mean_null * (1 - mean_null) + mean_matched * (1 - mean_matched)) / n)
    return {
        "null": round(mean_null, 4),
        "matched": round(mean_matched, 4),
        "excess": round(mean_matched - mean_null, 4),
        "noise": round(noise, 4),
        "n": n,
        "draws": draws,
    }


def new_terms(
    reference: list[str], current: list[str], min_count: int = 3, top: int = 15, seed: int = 0
) -> dict[str, Any]:
    """Terms frequent in the fresh texts and absent from the training texts; the share of fresh texts using
    one, and how far that share exceeds the split's own (novelty_baseline)."""
    seen = {w for t in reference for w in words(t)}
    rate, frequent, counts = _novelty(seen, current, min_count)
    tokens = [w for t in current for w in words(t)]
    unseen_tokens = sum(1 for w in tokens if w not in seen)
    baseline = novelty_baseline(reference, current, min_count, seed)
    return {
        "rate": round(rate, 4) if rate is not None else None,
        "excess": baseline["excess"],
        "baseline": baseline,
        "oov_token_rate": round(unseen_tokens / len(tokens), 4) if tokens else None,
        "terms": len(frequent),
        "top": [[w, n] for w, n in sorted(((w, counts[w]) for w in frequent), key=lambda x: (-x[1], x[0]))[:top]],
    }


def label_drift(reference: list[Any], current: list[Any], known: list[str], eps: float = 1e-4) -> dict[str, Any]:
    """PSI of the label, the share of fresh labels the model never learned, and which ones they are."""
    unknown = Counter(str(v) for v in current if v is not None and v not in known)
    labelled = [v for v in current if v is not None]
    return {
        **psi(reference, current, eps),
        "unknown_share": round(sum(unknown.values()) / len(labelled), 4) if labelled else None,
        "new_labels": dict(sorted(unknown.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def product_of(text: str, products: dict[str, list[str]]) -> str:
    """The product a text names first (keywords matched as whole words, case-insensitive); none: other."""
    best: tuple[int, str] | None = None
    low = text.lower()
    for name, keywords in products.items():
        for kw in keywords:
            m = re.search(rf"(?<![a-z0-9]){re.escape(kw.lower())}(?![a-z0-9])", low)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), name)
    return best[1] if best else OTHER


def domain_auc(
    reference: list[str], current: list[str], seed: int = 0, max_per_side: int = 1000, folds: int = 5, top: int = 12
) -> dict[str, Any]:
    """Cross-validated ROC AUC of a classifier telling current (1) from reference (0) texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    n = min(len(reference), len(current), int(max_per_side))
    if n < folds * 2:
        return {"auc": None, "n_per_side": n, "note": f"too few texts (need {folds * 2} per side)", "top_terms": []}
    rng = random.Random(seed)
    ref, cur = rng.sample(reference, n), rng.sample(current, n)
    texts, y = ref + cur, [0] * n + [1] * n
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=2,
        sublinear_tf=True,
        lowercase=True,
        preprocessor=lambda t: PLACEHOLDER.sub(" ", t.lower()),
        token_pattern=WORD.pattern,
    )
    x = vectorizer.fit_transform(texts)
    model = LogisticRegression(C=1.0, max_iter=2000)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, x, y, cv=cv, method="decision_function")
    auc = float(roc_auc_score(y, scores))
    model.fit(x, y)
    names = vectorizer.get_feature_names_out()
    order = model.coef_[0].argsort()[::-1][:top]
    return {
        "auc": round(auc, 4),
        "n_per_side": n,
        "folds": folds,
        "top_terms": [[str(names[i]), round(float(model.coef_[0][i]), 3)] for i in order if model.coef_[0][i] > 0],
    }
