"""Paraphrase detection for the contamination guard: character n-gram TF-IDF cosine between each frozen
item (regression case, probe) and its nearest training text.

    nearest_scores(train_texts, items, reference_texts=base_split) -> [(best cosine, train index)]

The n-gram guard catches copies and long shared spans; a paraphrase (every sixth word dropped, synonyms
swapped, clauses reordered) shares few 13-grams but most of its character 3-5-grams. The rule built on
these scores (a threshold and a margin over the base's own split, conf/eval `contamination.paraphrase`)
is the guard's: tuneloop.evals.contamination. The IDF is fitted on
the reference texts (the base branch's training split in the referee), so repeating an item in the
candidate's split cannot make its n-grams look common. Measured recall and false alarms, and the limits:
docs/eval-harness.md, benchmarks/paraphrase_bench.py.
"""

from __future__ import annotations


def nearest_scores(
    train_texts: list[str], items: list[tuple[str, str]], reference_texts: list[str] | None = None
) -> list[tuple[float, int | None]]:
    """(best cosine, index of that training text) per item."""
    if not train_texts or not items:
        return [(0.0, None) for _ in items]
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True, sublinear_tf=True)
    vectorizer.fit(reference_texts if reference_texts else train_texts)
    train = vectorizer.transform(train_texts)
    query = vectorizer.transform([text for _, text in items])
    sims = (query @ train.T).tocsr()  # rows are L2-normalised: the product is the cosine
    out = []
    for row in range(sims.shape[0]):
        start, end = sims.indptr[row], sims.indptr[row + 1]
        if start == end:
            out.append((0.0, None))
            continue
        k = int(sims.data[start:end].argmax())
        out.append((float(sims.data[start + k]), int(sims.indices[start + k])))
    return out
