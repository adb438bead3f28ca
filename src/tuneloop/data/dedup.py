"""Exact and near-duplicate detection for support text (used by prepare, and by split's leakage check).

    from tuneloop.data.dedup import DedupConfig, find_duplicates, near_duplicate_pairs
    result = find_duplicates(records, DedupConfig.from_params(params))   # clusters + what to drop
    pairs = near_duplicate_pairs(train_texts, test_texts, cfg)           # [(i, j, jaccard), ...]

Exact duplicates: sha256 of the normalized text (lowercase, PII placeholders such as `<EMAIL>` kept,
punctuation dropped, whitespace collapsed). Near duplicates: MinHash signatures (num_perm 128, seeded)
over character 5-gram shingles of the same normalized text, candidate pairs from datasketch's
MinHashLSH, each kept only if its estimated Jaccard similarity reaches `threshold` (default 0.8).

Why character shingles: tickets are short (median 28 words). One typo changes 5 word 5-grams of a
30-word message (estimated Jaccard ~0.7, missed at 0.8) but only 5 of ~150 character 5-grams (~0.94).
benchmarks/dedup_bench.py measures both (docs/data-cleaning.md has the figures).

Speed: signatures are computed for all texts at once with numpy (rolling hash of the shingles, the
MurmurHash3 finalizer and datasketch's affine permutations `a * h + b mod 2^32`, min per text). They
equal `datasketch.MinHash(num_perm, seed, hashfunc=<our shingle hash>)` fed shingle by shingle (a test
checks it), about two orders of magnitude faster than calling `update` per shingle in Python.

Clusters are stars: texts are visited in representative order (highest quality score, then earliest
`created_at`, then id) and each text not yet taken becomes a representative and takes the untaken
texts within `threshold` of it. So every member is within the threshold of its representative (no
chaining A~B~C where A and C differ), and the same input always gives the same clusters.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TOKEN = re.compile(r"<[a-z_]+>|\w+")  # PII placeholders (lowercased) survive as one token
_MASK32 = np.uint64(0xFFFFFFFF)
_ROLL = np.uint64(0x100000001B3)  # FNV-64 prime: the base of the rolling shingle hash
_TEXTS_PER_CHUNK = 4096
_BLOCK = 1 << 14  # shingles per numpy block: num_perm x 16k uint32 = 8 MiB stays in cache (2^18 was 8x slower)


@dataclass(frozen=True)
class DedupConfig:
    enabled: bool = True
    threshold: float = 0.8  # estimated Jaccard at or above which two texts are near duplicates
    num_perm: int = 128
    shingle: str = "char"  # "char" or "word"
    ngram: int = 5
    seed: int = 1

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> DedupConfig:
        """Read `clean.dedup` from the composed params (missing keys take the defaults above)."""
        section = ((params or {}).get("clean") or {}).get("dedup") or {}
        known = {k: section[k] for k in cls.__dataclass_fields__ if k in section}
        cfg = cls(**known)
        if cfg.shingle not in ("char", "word"):
            raise ValueError(f"clean.dedup.shingle must be 'char' or 'word', got {cfg.shingle!r}")
        if not 0.0 < cfg.threshold <= 1.0:
            raise ValueError(f"clean.dedup.threshold must be in (0, 1], got {cfg.threshold}")
        return cfg


@dataclass(frozen=True)
class Cluster:
    representative: str  # the id kept
    members: tuple[str, ...]  # the ids dropped as its duplicates (sorted)
    kind: str  # "exact" if every member's normalized text equals the representative's
    jaccard: dict[str, float]  # estimated Jaccard of each member with the representative (1.0 if exact)


@dataclass
class DedupResult:
    clusters: list[Cluster] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)  # {"id", "reason", "duplicate_of", "jaccard"}
    candidate_pairs: int = 0  # LSH candidates checked (a cost figure)

    @property
    def dropped_ids(self) -> set[str]:
        return {d["id"] for d in self.dropped}

    def kept(self, records: Iterable[dict]) -> list[dict]:
        """The records that are not duplicates of another, in input order."""
        drop = self.dropped_ids
        return [r for r in records if r["id"] not in drop]

    def summary(self) -> dict[str, int]:
        return {
            "clusters": len(self.clusters),
            "exact_duplicates": sum(d["reason"] == "exact_duplicate" for d in self.dropped),
            "near_duplicates": sum(d["reason"] == "near_duplicate" for d in self.dropped),
        }


# ---------------------------------------------------------------------------------------------------
# Text of a record, normalized
# ---------------------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Lowercase, keep words and PII placeholders, drop punctuation, collapse whitespace."""
    return " ".join(TOKEN.findall((text or "").lower()))


def dedup_text(record: dict) -> str:
    """The text two records must share to be duplicates: what a model is prompted with.

    For a ticket that is the customer's message (near-duplicate resubmissions are often answered by a
    different agent, so the reply would hide them); boilerplate (signatures, "Sent from my iPhone",
    quoted replies) is stripped first so that an appended signature does not make a ticket new.
    """
    from tuneloop.data.quality import clean_text

    kind = record.get("kind")
    if kind == "ticket":
        text = record.get("customer_message") or ""
    elif kind == "transcript":
        text = "\n".join(t.get("text") or "" for t in record.get("turns") or [] if t.get("role") == "customer")
    elif kind == "instruction":
        text = record.get("prompt") or ""
    elif kind == "chat":
        text = "\n".join(m.get("content") or "" for m in record.get("messages") or [] if m.get("role") == "user")
    else:  # kb, labelled_text
        text = record.get("text") or ""
    return clean_text(text)


def representative_key(record: dict) -> tuple:
    """Sort key of the representative rule: highest quality score, then earliest created_at, then id."""
    score = (record.get("quality") or {}).get("score")
    created = record.get("created_at")
    return (-(float(score) if score is not None else 0.0), created is None, str(created or ""), str(record["id"]))


# ---------------------------------------------------------------------------------------------------
# MinHash signatures, all texts at once
# ---------------------------------------------------------------------------------------------------


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch applies it before its permutations."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def permutations(num_perm: int, seed: int) -> np.ndarray:
    """datasketch's affine32 permutation parameters [a, b] for (num_perm, seed)."""
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=seed).permutations


def _fold64(h: np.ndarray) -> np.ndarray:
    return ((h ^ (h >> np.uint64(32))) & _MASK32).astype(np.uint32)


def _roll(units: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """Polynomial hash (mod 2^64) of units[s:s+n] for each start s, folded to 32 bits."""
    h = np.zeros(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * _ROLL + units[starts + k]
    return _fold64(h)


def shingle_hashes(texts: Sequence[str], shingle: str = "char", n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every shingle of every normalized text, concatenated, and each text's offset.

    Returns (hashes, offsets) with text i's shingles in hashes[offsets[i]:offsets[i+1]]. A text shorter
    than n units gives one shingle (itself, padded); an empty text gives none.
    """
    if shingle == "char":
        unit_lists = []
        for text in texts:
            if text and len(text) < n:
                text = text + "\x00" * (n - len(text))
            unit_lists.append(text)
        joined = "".join(unit_lists)
        units = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter((len(t) for t in unit_lists), dtype=np.int64, count=len(unit_lists))
    else:
        vocab: dict[str, int] = {}
        ids: list[int] = []
        lengths_list = []
        for text in texts:
            words = text.split()
            if words and len(words) < n:
                words = words + [""] * (n - len(words))
            for w in words:
                h = vocab.get(w)
                if h is None:
                    h = vocab[w] = zlib.crc32(w.encode()) + 1  # +1: the padding word "" is not 0
                ids.append(h)
            lengths_list.append(len(words))
        units = np.asarray(ids, dtype=np.uint64)
        lengths = np.asarray(lengths_list, dtype=np.int64)
    counts = np.where(lengths >= n, lengths - n + 1, 0)
    unit_offsets = np.concatenate(([0], np.cumsum(lengths)))[:-1]
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    # start of every shingle: the text's first unit + 0..count-1
    starts = np.repeat(unit_offsets, counts) + (np.arange(offsets[-1]) - np.repeat(offsets[:-1], counts))
    return _roll(units, starts, n), offsets


def signatures(texts: Sequence[str], cfg: DedupConfig) -> np.ndarray:
    """MinHash signatures (len(texts) x num_perm, uint32) of normalized texts; an empty text's row is all max."""
    a, b = permutations(cfg.num_perm, cfg.seed)
    sigs = np.full((len(texts), cfg.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    for first in range(0, len(texts), _TEXTS_PER_CHUNK):  # chunks of texts bound the shingle arrays' memory
        chunk = texts[first : first + _TEXTS_PER_CHUNK]
        hashes, offsets = shingle_hashes(chunk, cfg.shingle, cfg.ngram)
        nonempty = np.flatnonzero(np.diff(offsets))
        mixed = _fmix32(hashes)
        start = 0
        while start < len(nonempty):  # blocks of whole texts, ~_BLOCK shingles each
            end_shingle = offsets[nonempty[start]] + _BLOCK
            end = max(start + 1, int(np.searchsorted(offsets[nonempty + 1], end_shingle, side="right")))
            block = nonempty[start:end]
            lo, hi = offsets[block[0]], offsets[block[-1] + 1]
            phv = np.multiply.outer(a, mixed[lo:hi])  # (num_perm, shingles); uint32 arithmetic wraps: mod 2^32
            phv += b[:, None]
            sigs[first + block] = np.minimum.reduceat(phv, offsets[block] - lo, axis=1).T
            start = end
    return sigs


def _estimated_jaccard(sigs: np.ndarray, i: int, others: np.ndarray) -> np.ndarray:
    return (sigs[others] == sigs[i]).mean(axis=1)


def candidate_neighbours(sigs: np.ndarray, rows: Iterable[int], cfg: DedupConfig) -> dict[int, list[int]]:
    """LSH candidates: index the given rows of `sigs` in a datasketch MinHashLSH (bands and rows chosen
    by datasketch for cfg.threshold) and return, for each row, the other rows sharing a band bucket.

    Reading the buckets once is cheaper than one `query` per row (100k rows: ~3 s saved).
    """
    from datasketch import MinHash, MinHashLSH

    perms = permutations(cfg.num_perm, cfg.seed)
    # datasketch needs at least 2 bands, which thresholds near 1 do not give; a lower LSH threshold only
    # adds candidates, and every candidate is checked against cfg.threshold afterwards
    lsh = MinHashLSH(threshold=min(cfg.threshold, 0.95), num_perm=cfg.num_perm)
    with lsh.insertion_session() as session:
        for row in rows:
            session.insert(
                int(row),
                MinHash(seed=cfg.seed, hashvalues=sigs[row], permutations=perms, scheme="affine32"),
                check_duplication=False,
            )
    neighbours: dict[int, set[int]] = defaultdict(set)
    for table in lsh.hashtables:
        for key in table.keys():
            bucket = table.get(key)
            if len(bucket) > 1:
                for row in bucket:
                    neighbours[row].update(bucket)
    return {row: sorted(others - {row}) for row, others in neighbours.items()}


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------


def find_duplicates(
    records: Sequence[dict], cfg: DedupConfig | None = None, text_of: Callable[[dict], str] = dedup_text
) -> DedupResult:
    """Cluster exact and near duplicates among records of the same kind; say which to drop and why.

    Records with no text (after normalization) are never duplicates. The representative of each
    cluster is the best record by `representative_key`; the other members are dropped with reason
    exact_duplicate or near_duplicate, the representative's id and the estimated Jaccard.
    """
    cfg = cfg or DedupConfig()
    result = DedupResult()
    if not cfg.enabled:
        return result
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_kind[str(record.get("kind"))].append(record)
    for kind in sorted(by_kind):
        _dedup_kind(by_kind[kind], cfg, text_of, result)
    result.clusters.sort(key=lambda c: c.representative)
    result.dropped.sort(key=lambda d: d["id"])
    return result


def _dedup_kind(records: list[dict], cfg: DedupConfig, text_of, result: DedupResult) -> None:
    ordered = sorted(records, key=representative_key)
    # exact groups: one unit per distinct normalized text, led by its best record
    units: dict[str, list[dict]] = {}
    norms: dict[str, str] = {}
    for record in ordered:
        norm = normalize(text_of(record))
        if not norm:
            continue
        digest = hashlib.sha256(norm.encode()).hexdigest()
        units.setdefault(digest, []).append(record)
        norms.setdefault(digest, norm)
    digests = list(units)  # in representative order of each unit's leader
    taken = np.zeros(len(digests), dtype=bool)
    sigs, neighbours = None, {}
    if len(digests) > 1 and cfg.threshold < 1.0:
        sigs = signatures([norms[d] for d in digests], cfg)
        neighbours = candidate_neighbours(sigs, range(len(digests)), cfg)
    for u, digest in enumerate(digests):
        if taken[u]:
            continue
        taken[u] = True
        leader, *copies = units[digest]
        jaccard = {r["id"]: 1.0 for r in copies}
        dropped = [(r, "exact_duplicate", 1.0) for r in copies]
        if u in neighbours:
            cands = np.asarray([c for c in neighbours[u] if not taken[c]], dtype=np.int64)
            result.candidate_pairs += len(cands)
            if len(cands):
                est = _estimated_jaccard(sigs, u, cands)
                for c, j in zip(cands, est):
                    if j >= cfg.threshold:
                        taken[c] = True
                        for r in units[digests[c]]:
                            jaccard[r["id"]] = round(float(j), 4)
                            dropped.append((r, "near_duplicate", round(float(j), 4)))
        if dropped:
            kind = "exact" if all(reason == "exact_duplicate" for _, reason, _ in dropped) else "near"
            result.clusters.append(Cluster(leader["id"], tuple(sorted(jaccard)), kind, dict(sorted(jaccard.items()))))
            result.dropped += [
                {"id": r["id"], "reason": reason, "duplicate_of": leader["id"], "jaccard": j}
                for r, reason, j in dropped
            ]


def near_duplicate_pairs(
    texts_a: Sequence[str], texts_b: Sequence[str], cfg: DedupConfig | None = None
) -> list[tuple[int, int, float]]:
    """(i, j, estimated Jaccard) for every texts_a[i] ~ texts_b[j] at or above cfg.threshold, sorted.

    Texts are normalized here; empty ones match nothing. Identical normalized texts always match.
    """
    cfg = cfg or DedupConfig()
    norm_a, norm_b = [normalize(t) for t in texts_a], [normalize(t) for t in texts_b]
    if not any(norm_a) or not any(norm_b):
        return []
    sigs = signatures(norm_a + norm_b, cfg)
    n_a = len(norm_a)
    rows = [i for i, t in enumerate(norm_a + norm_b) if t]
    neighbours = candidate_neighbours(sigs, rows, cfg)
    pairs = []
    for j, norm in enumerate(norm_b):
        cands = np.asarray([c for c in neighbours.get(n_a + j, []) if c < n_a], dtype=np.int64)
        if not len(cands):
            continue
        est = _estimated_jaccard(sigs, n_a + j, cands)
        for i, jac in zip(cands, est):
            if jac >= cfg.threshold or norm_a[i] == norm:
                pairs.append((int(i), j, round(float(jac), 4)))
    return sorted(pairs)
