"""Cleaning as one call for `prepare`: quality scoring (with boilerplate stripping), then dedup.

    from tuneloop.data.clean import clean_records
    kept, dropped, report = clean_records(records, params)   # params: the composed config (clean.*)

Order matters: quality first, so that boilerplate is stripped before texts are compared and the
representative of a duplicate cluster can be chosen by quality score (then earliest created_at, then
id). Every input record ends in `kept` or in `dropped` exactly once, with a reason:
  low_quality      detail = the quality reasons ("low_satisfaction: satisfaction 2 < 4; ...")
  exact_duplicate  duplicate_of = the representative's id, jaccard 1.0
  near_duplicate   duplicate_of, jaccard = estimated Jaccard with the representative
`report` holds counts only (no text, no PII): for reports/data/prepare.json.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tuneloop.data.dedup import DedupConfig, find_duplicates
from tuneloop.data.quality import QualityConfig, QualityResult, apply_quality


def clean_records(
    records: list[dict], params: dict[str, Any], quality_results: list[QualityResult] | None = None
) -> tuple[list[dict], list[dict], dict]:
    """(kept records with `quality` and cleaned text, dropped entries with reasons, counts).

    `quality_results`: the records' quality scores if already computed (in parallel), in order."""
    quality_cfg, dedup_cfg = QualityConfig.from_params(params), DedupConfig.from_params(params)
    stripped: Counter = Counter()
    kept, dropped = apply_quality(records, quality_cfg, stripped, quality_results)
    result = find_duplicates(kept, dedup_cfg)
    by_id = {r["id"]: r for r in kept}
    for d in result.dropped:
        record = by_id[d["id"]]
        dropped.append(
            {
                "id": d["id"],
                "kind": record.get("kind"),
                "source": record.get("source"),
                "locator": record.get("locator", record.get("line")),
                "reason": d["reason"],
                "duplicate_of": d["duplicate_of"],
                "jaccard": d["jaccard"],
            }
        )
    kept = result.kept(kept)
    scores = [r["quality"]["score"] for r in kept if "quality" in r]
    report = {
        "records_in": len(records),
        "kept": len(kept),
        "dropped": len(dropped),
        "dropped_by_reason": dict(sorted(Counter(d["reason"] for d in dropped).items())),
        "quality_reasons": dict(
            sorted(
                Counter(
                    reason.split(":")[0]
                    for d in dropped
                    if d["reason"] == "low_quality"
                    for reason in d["quality"]["reasons"]
                ).items()
            )
        ),
        "quality_mean_score": round(sum(scores) / len(scores), 4) if scores else None,
        "boilerplate_stripped": dict(sorted(stripped.items())),
        "duplicate_clusters": {
            "exact": sum(c.kind == "exact" for c in result.clusters),
            "near": sum(c.kind == "near" for c in result.clusters),
        },
    }
    assert report["records_in"] == report["kept"] + report["dropped"], "clean: record accounting does not add up"
    return kept, dropped, report
