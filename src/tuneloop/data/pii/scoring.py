"""Span-level precision, recall and F1 of the PII redactor, per type and overall.

    PYTHONPATH=src python -m tuneloop.data.pii.scoring                                    # tests/data/pii_labelled.jsonl
    PYTHONPATH=src python -m tuneloop.data.pii.scoring --json reports/data/pii_eval.json
    PYTHONPATH=src python -m tuneloop.data.pii.scoring --presidio ../shared/data/pii/presidio_synth_v2_dev.json
    PYTHONPATH=src python -m tuneloop.data.pii.scoring --engine rules                     # redact.engine

Three ways to count a match, each reported:
  exact    a prediction of the same type with exactly the gold [start, end)
  overlap  a prediction of the same type that overlaps the gold span
  covered  (recall only) every character of the gold span lies inside some prediction, of any type:
           the value does not survive redaction, which is what privacy needs
Precision counts a prediction as right when it matches a gold span under the same rule. Overall
figures are micro-averaged over the types the redactor has. With --presidio, entity types are mapped
to ours (CREDIT_CARD -> CARD, STREET_ADDRESS -> ADDRESS, ...); a prediction that overlaps only a
gold span of a type we do not detect (DATE_TIME, ORGANIZATION, ZIP_CODE...) counts neither way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tuneloop.data.pii import TYPES, Redactor, make_redactor

DEFAULT_DATA = Path(__file__).resolve().parents[4] / "tests" / "data" / "pii_labelled.jsonl"
PRESIDIO_TYPES = {
    "CREDIT_CARD": "CARD",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "IBAN_CODE": "IBAN",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "PERSON": "PERSON",
    "STREET_ADDRESS": "ADDRESS",
}
CHECKSUM_TYPES = ("CARD", "IBAN", "US_SSN")


def load_labelled(path: str | Path) -> list[dict[str, Any]]:
    """Rows {"id", "text", "spans": [{"type", "start", "end"}]} from our JSONL."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_presidio(path: str | Path) -> list[dict[str, Any]]:
    """presidio-research records as our rows; unmapped entity types kept with type "OTHER:<name>"."""
    with Path(path).open(encoding="utf-8") as fh:
        records = json.load(fh)
    return [
        {
            "id": f"presidio-{i}",
            "text": r["full_text"],
            "spans": [
                {
                    "type": PRESIDIO_TYPES.get(s["entity_type"], f"OTHER:{s['entity_type']}"),
                    "start": s["start_position"],
                    "end": s["end_position"],
                }
                for s in r["spans"]
            ],
        }
        for i, r in enumerate(records)
    ]


def _prf(tp_p: int, n_pred: int, tp_g: int, n_gold: int) -> dict[str, float | None]:
    p = tp_p / n_pred if n_pred else None
    r = tp_g / n_gold if n_gold else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    return {"precision": p, "recall": r, "f1": f}


def evaluate(redactor: Redactor, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts and figures per type and overall; see the module docstring for the match rules."""
    types = list(redactor.enabled)
    counts = {t: dict.fromkeys(("gold", "pred", "exact", "overlap_gold", "overlap_pred", "covered"), 0) for t in types}
    misses: list[dict[str, Any]] = []
    rows = list(rows)
    if hasattr(redactor, "prefetch"):
        redactor.prefetch(row["text"] for row in rows)  # the presidio engine: NER batched over all rows
    for row in rows:
        text = row["text"]
        preds = redactor.find(text)
        gold = [g for g in row["spans"] if g["type"] in counts]
        other = [g for g in row["spans"] if g["type"] not in counts]
        for g in gold:
            c = counts[g["type"]]
            c["gold"] += 1
            same = [p for p in preds if p.type == g["type"]]
            c["exact"] += any(p.start == g["start"] and p.end == g["end"] for p in same)
            hit = any(p.start < g["end"] and g["start"] < p.end for p in same)
            c["overlap_gold"] += hit
            covered = all(any(p.start <= i < p.end for p in preds) for i in range(g["start"], g["end"]))
            c["covered"] += covered
            if not covered:  # offsets and type only, never the value, so the output is safe to share
                misses.append({"id": row["id"], "type": g["type"], "start": g["start"], "end": g["end"]})
        for p in preds:
            if p.type not in counts:
                continue
            overlaps_gold = any(p.start < g["end"] and g["start"] < p.end and g["type"] == p.type for g in gold)
            if not overlaps_gold and any(p.start < g["end"] and g["start"] < p.end for g in other):
                continue  # presidio labels it as something we do not detect (a ZIP_CODE, a DATE_TIME...)
            c = counts[p.type]
            c["pred"] += 1
            c["overlap_pred"] += overlaps_gold
    per_type = {}
    for t, c in counts.items():
        per_type[t] = {
            **c,
            "exact_match": _prf(c["exact"], c["pred"], c["exact"], c["gold"]),
            "overlap_match": _prf(c["overlap_pred"], c["pred"], c["overlap_gold"], c["gold"]),
            "covered_recall": c["covered"] / c["gold"] if c["gold"] else None,
        }
    total = {k: sum(c[k] for c in counts.values()) for k in next(iter(counts.values()))}
    overall = {
        **total,
        "exact_match": _prf(total["exact"], total["pred"], total["exact"], total["gold"]),
        "overlap_match": _prf(total["overlap_pred"], total["pred"], total["overlap_gold"], total["gold"]),
        "covered_recall": total["covered"] / total["gold"] if total["gold"] else None,
    }
    return {"per_type": per_type, "overall": overall, "misses": misses}


def format_table(result: Mapping[str, Any], title: str) -> str:
    fmt = lambda x: "   -" if x is None else f"{x:.3f}"  # noqa: E731
    lines = [
        title,
        "",
        "| type | gold | pred | P exact | R exact | F1 exact | P overlap | R overlap | F1 overlap | R covered |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [(t, result["per_type"][t]) for t in TYPES if t in result["per_type"]] + [("overall", result["overall"])]
    for name, r in rows:
        e, o = r["exact_match"], r["overlap_match"]
        lines.append(
            f"| {name} | {r['gold']} | {r['pred']} | {fmt(e['precision'])} | {fmt(e['recall'])} | "
            f"{fmt(e['f1'])} | {fmt(o['precision'])} | {fmt(o['recall'])} | {fmt(o['f1'])} | "
            f"{fmt(r['covered_recall'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Precision/recall of PII redaction on a labelled set.")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="our labelled JSONL (default: %(default)s)")
    parser.add_argument(
        "--presidio", help="presidio-research JSON (e.g. ../shared/data/pii/presidio_synth_v2_dev.json)"
    )
    parser.add_argument(
        "--config", help="a YAML with the `redact` group (default: the built-in rules = conf/redact/default.yaml)"
    )
    parser.add_argument("--json", help="write the figures (no PII values) to this path")
    parser.add_argument("--engine", choices=["presidio", "rules"], help="override redact.engine")
    parser.add_argument(
        "--sources",
        choices=["rules", "presidio", "both"],
        help="with the presidio engine: who finds every type (default: redact.presidio.sources)",
    )
    args = parser.parse_args(argv)

    config = None
    if args.config:
        import yaml

        config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    config = dict(config or {})
    if args.engine:
        config["engine"] = args.engine
    if args.sources:
        config["presidio"] = {**config.get("presidio", {}), "sources": dict.fromkeys(TYPES, args.sources)}
    redactor = make_redactor(config)
    results = {}
    if args.data:
        results["labelled"] = evaluate(redactor, load_labelled(args.data))
        print(format_table(results["labelled"], f"## {args.data}"))
    if args.presidio:
        if Path(args.presidio).exists():
            results["presidio"] = evaluate(redactor, load_presidio(args.presidio))
            print("\n" + format_table(results["presidio"], f"## {args.presidio}"))
        else:
            print(f"\n{args.presidio}: not found, skipped")
    if args.json:
        from tuneloop.io import write_json

        write_json(args.json, results)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
