"""The contamination guard's n-gram rule, shared by `split` (which moves what the guard would flag) and
the guard (evals/contamination.py, which checks and reports it).

    index = TrainIndex(train_texts, n=13, ignore_common=0.01)
    exact, fraction, nearest = index.nearest(text)   # a leak when exact or fraction >= item_overlap
"""

from __future__ import annotations

import re
from collections import Counter

from tuneloop.prompts import source_text, without_passages

_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> list[str]:
    """Lowercased word tokens; punctuation and spacing differences do not hide a copy."""
    return _WORD.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


class TrainIndex:
    """The training split's n-grams (minus the common ones, unless ignore_common is None) and exact texts."""

    def __init__(
        self,
        train_texts: list[str],
        n: int = 13,
        ignore_common: float | None = 0.01,
        common_from: list[str] | None = None,
    ):
        """common_from: the texts whose frequent n-grams count as boilerplate (default: train_texts). The
        referee passes the base branch's own training split, so a PR cannot make an item "common" by
        repeating it in the split it hands over."""
        self.n = n
        per_text = [ngrams(normalize(t), n) for t in train_texts]
        doc_freq = Counter(g for grams in per_text for g in grams)
        reference = (
            doc_freq if common_from is None else Counter(g for t in common_from for g in ngrams(normalize(t), n))
        )
        size = len(train_texts) if common_from is None else len(common_from)
        limit = max(2, int(ignore_common * size)) if ignore_common is not None else None
        self.common = {g for g, c in reference.items() if c > limit} if limit is not None else set()
        self.grams = set(doc_freq) - self.common
        self.first = {}  # n-gram -> the first training text holding it (to name the nearest example)
        for i, grams in enumerate(per_text):
            for g in grams:
                self.first.setdefault(g, i)
        self.exact = {" ".join(normalize(t)): i for i, t in enumerate(train_texts)}
        # ... and each prompt's content alone (after the instruction): an item shorter than n words has no
        # n-gram, so without this a short query copied into a training prompt would overlap 0% (CLINC-like data)
        for i, t in enumerate(train_texts):
            self.exact.setdefault(" ".join(normalize(source_text(t))), i)

    def overlap(self, text: str) -> tuple[bool, float]:
        """(exact copy?, fraction of the item's non-common n-grams seen in training)."""
        return self.nearest(text)[:2]

    def nearest(self, text: str) -> tuple[bool, float, int | None]:
        """(exact copy?, overlap fraction, index of the training text sharing most of the item's n-grams).

        The item's retrieved passages are left out: they are KB text the model is given at inference, and
        training prompts carry the same articles as passages, so counting them flagged every KB question.
        Training texts keep theirs, so a question hidden in a training prompt's passages is still seen."""
        tokens = normalize(without_passages(text))
        for whole in (" ".join(tokens), " ".join(normalize(source_text(text)))):
            if whole and whole in self.exact:
                return True, 1.0, self.exact[whole]
        grams = ngrams(tokens, self.n) - self.common
        if not grams:
            return False, 0.0, None
        seen = [g for g in grams if g in self.grams]
        where = Counter(self.first[g] for g in seen).most_common(1)
        return False, len(seen) / len(grams), where[0][0] if where else None
