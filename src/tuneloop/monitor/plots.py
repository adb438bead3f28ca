"""The monitor's charts (matplotlib, deterministic PNGs): the drift report and the simulation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneloop.io import save_png


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _shares(ax, res: dict[str, Any], title: str) -> None:
    # ties broken by name: a set's order follows the per-process string hash, and the bytes must not
    values = sorted(
        set(res["reference"]) | set(res["current"]),
        key=lambda v: (-max(res["reference"].get(v, 0), res["current"].get(v, 0)), v),
    )[:12]
    ys = range(len(values))
    ax.barh(
        [y + 0.2 for y in ys],
        [res["reference"].get(v, 0) for v in values],
        height=0.4,
        color="#9aa5b1",
        label="training split",
    )
    ax.barh(
        [y - 0.2 for y in ys], [res["current"].get(v, 0) for v in values], height=0.4, color="#d9534f", label="fresh"
    )
    ax.set_yticks(list(ys), values, fontsize=7)
    ax.invert_yaxis()
    ax.set_title(f"{title} (PSI {res['psi'] if res['psi'] is not None else '-'})", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")


def not_run_chart(text: str, path: str | Path) -> Path:
    """A stage's chart when it had nothing to do: the reason, written where the chart would be."""
    import textwrap

    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 2), dpi=100)
    ax.axis("off")
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 90)), ha="center", va="center", fontsize=9, wrap=True)
    return save_png(fig, path)


def drift_chart(report: dict[str, Any], path: str | Path) -> Path:
    """Four panels: label shares, product shares, every signal against its threshold, top new terms."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), dpi=100)
    _shares(axes[0][0], report["label"], "label")
    fields = report["input"]["fields"]
    if "product" in fields:
        _shares(axes[0][1], fields["product"], "product")
    else:
        axes[0][1].axis("off")
    sig = [s for s in report["signals"] if s["value"] is not None and s["threshold"]]
    ax = axes[1][0]
    ratios = [
        s["value"] / s["threshold"] if s["direction"] == ">=" else s["threshold"] / max(s["value"], 1e-9) for s in sig
    ]
    ax.barh(range(len(sig)), ratios, color=["#d9534f" if s["fired"] else "#5cb85c" for s in sig])
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(sig)), [f"{s['signal']} {s['value']:.2f}" for s in sig], fontsize=7)
    ax.invert_yaxis()
    ax.set_title("signals / threshold (>= 1 fires)", fontsize=9)
    ax.tick_params(labelsize=7)
    ax = axes[1][1]
    top = report["terms"]["top"][:12]
    ax.barh(range(len(top)), [n for _, n in top], color="#f0ad4e")
    ax.set_yticks(range(len(top)), [t for t, _ in top], fontsize=7)
    ax.invert_yaxis()
    excess = report["terms"].get("excess")
    ax.set_title(
        f"new terms (in {report['terms']['rate'] or 0:.0%} of fresh texts"
        + (f"; {excess:+.0%} over no drift)" if excess is not None else ")"),
        fontsize=9,
    )
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return save_png(fig, path)


def simulation_chart(result: dict[str, Any], path: str | Path) -> Path:
    """Accuracy on each week's fresh tickets, with and without the loop, the gate's floor and the retrains."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4), dpi=100)
    weeks = [w["week"] for w in result["weeks"]]
    ax.plot(
        weeks,
        [w["static"]["accuracy"] for w in result["weeks"]],
        marker="o",
        color="#d9534f",
        label="without the loop (week-0 adapter)",
    )
    ax.plot(weeks, [w["loop"]["accuracy"] for w in result["weeks"]], marker="o", color="#2b7bba", label="with the loop")
    ax.axhline(result["floor"], color="black", linestyle="--", linewidth=1, label=f"gate floor {result['floor']:.2f}")
    for r in result["retrains"]:
        ax.axvline(r["week"] - 0.5, color="#2b7bba" if r["promoted"] else "#999999", alpha=0.25, linewidth=6)
        label = r["trigger"] + ("" if r["promoted"] else f" (refused: {r['candidate_acc']:.2f})")
        ax.annotate(label, (r["week"] - 0.5, 0.02), fontsize=7, rotation=90, color="#2b7bba")
    for name, week in result["events"].items():
        ax.annotate(name.replace("_", " "), (week - 0.5, 1.0), fontsize=7, color="gray", ha="left", va="top")
        ax.axvline(week - 0.5, color="gray", linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("week")
    ax.set_ylabel("classification accuracy on the week's fresh tickets")
    ax.set_title(result.get("title", "retraining loop simulation"), fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)  # below: the retrain labels sit low
    fig.tight_layout()
    return save_png(fig, path)
