"""Figures of the data report: token-length histogram and the label-balance / length chart.

Token counts are whitespace tokens of a record's text (customer message + agent reply for tickets):
a tokenizer-free, model-independent measure that is stable across base models.
"""

from __future__ import annotations

from pathlib import Path

from tuneloop.io import save_png

LENGTH_BINS = (0, 25, 50, 100, 200, 400, 800, 1600, 4000)


def record_tokens(record: dict) -> int:
    kind = record.get("kind")
    if kind == "ticket":
        text = f"{record.get('subject') or ''} {record.get('customer_message') or ''} {record.get('agent_reply') or ''}"
    elif kind == "transcript":
        text = " ".join(t["text"] for t in record.get("turns") or [])
    elif kind == "chat":
        text = " ".join(m["content"] for m in record.get("messages") or [])
    elif kind == "instruction":
        text = f"{record.get('prompt') or ''} {record.get('completion') or ''}"
    else:
        text = record.get("text") or ""
    return len(text.split())


def token_lengths(records: list[dict]) -> dict:
    """Histogram over LENGTH_BINS ("0-24", ..., "4000+") plus median, p95 and max."""
    lengths = sorted(record_tokens(r) for r in records)
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(LENGTH_BINS, LENGTH_BINS[1:])] + [f"{LENGTH_BINS[-1]}+"]
    counts = [0] * len(labels)
    for n in lengths:
        counts[sum(n >= b for b in LENGTH_BINS[1:])] += 1

    def pct(q: float) -> int:
        return lengths[min(len(lengths) - 1, int(q * len(lengths)))] if lengths else 0

    return {
        "bins": labels,
        "counts": counts,
        "median": pct(0.5),
        "p95": pct(0.95),
        "max": lengths[-1] if lengths else 0,
    }


def write_data_chart(report: dict, chart_file: str | Path) -> Path:
    """Two panels: records kept per label, and the token-length histogram. Deterministic PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    labels = report["labels"] or {"(none)": 0}
    left.barh(list(labels), list(labels.values()), color="#2b7bba")
    left.invert_yaxis()
    left.set_title("records kept per label", fontsize=9)
    left.tick_params(labelsize=7)
    lengths = report["token_lengths"]
    right.bar(range(len(lengths["bins"])), lengths["counts"], color="#9aa5b1")
    right.set_xticks(range(len(lengths["bins"])), lengths["bins"], fontsize=7, rotation=30, ha="right")
    right.set_title(f"token lengths (median {lengths['median']}, p95 {lengths['p95']})", fontsize=9)
    right.tick_params(labelsize=7)
    fig.tight_layout()
    return save_png(fig, chart_file)
