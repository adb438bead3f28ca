"""Rollouts of the staging adapter beside production, and the report that compares them.

    rollout: {mode: canary, share: 0.1}   # 10% of `tuneloop` requests answered by staging
    rollout: {mode: shadow}               # staging answers every request too: logged, never returned
    tuneloop monitor rollout --log reports/serve/requests.jsonl

Canary routing is deterministic (no random draw): request n goes to staging when floor(n * share)
steps up, so exactly `share` of any run of requests goes there, and a replay routes the same way.
Requests naming a stage explicitly (`tuneloop:staging`, `tuneloop:production`) are never rerouted.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

from tuneloop.io import read_jsonl

MODES = ("off", "canary", "shadow")


class Router:
    def __init__(self, mode: str = "off", share: float = 0.0):
        if mode not in MODES:
            raise ValueError(f"rollout.mode must be one of {MODES}, not {mode!r}")
        if not 0.0 <= float(share) <= 1.0:
            raise ValueError(f"rollout.share must be within [0, 1], not {share}")
        self.mode, self.share, self.n = mode, float(share), 0
        self.lock = threading.Lock()

    def arm(self, staging_available: bool) -> str:
        """`production` or `staging` for the next request to the routed model."""
        with self.lock:
            n, self.n = self.n, self.n + 1
        if (
            self.mode == "canary"
            and staging_available
            and math.floor((n + 1) * self.share) > math.floor(n * self.share)
        ):
            return "staging"
        return "production"

    def shadow(self, staging_available: bool) -> bool:
        return self.mode == "shadow" and staging_available


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def report(log: str | Path) -> dict[str, Any]:
    """Per arm (production, staging, base, shadow): requests, errors, latency p50/p95, tokens; and, for
    shadowed requests, how often staging's answer equalled production's."""
    rows = read_jsonl(log) if Path(log).exists() else []
    arms: dict[str, dict[str, Any]] = {}
    answers: dict[str, dict[str, str]] = {}
    for r in (r for r in rows if r.get("event") is None):  # feedback lines are not requests
        arm = "shadow" if r.get("shadow") else r.get("arm") or "none"
        a = arms.setdefault(
            arm, {"requests": 0, "errors": 0, "latency_ms": [], "completion_tokens": 0, "versions": set()}
        )
        a["requests"] += 1
        a["errors"] += int(r.get("status", 200) >= 400)
        if r.get("status", 200) < 400:
            a["latency_ms"].append(float(r.get("latency_ms") or 0))
            a["completion_tokens"] += int(r.get("completion_tokens") or 0)
        if r.get("version"):
            a["versions"].add(r["version"])
        if r.get("request_id") and r.get("output") is not None and r.get("status", 200) < 400:
            answers.setdefault(r["request_id"], {})["shadow" if r.get("shadow") else "served"] = r["output"]
    out: dict[str, Any] = {"log": str(log), "arms": {}}
    for arm, a in sorted(arms.items()):
        ok = len(a["latency_ms"])
        out["arms"][arm] = {
            "requests": a["requests"],
            "errors": a["errors"],
            "error_rate": round(a["errors"] / a["requests"], 4) if a["requests"] else None,
            "latency_p50_ms": _pct(a["latency_ms"], 0.5),
            "latency_p95_ms": _pct(a["latency_ms"], 0.95),
            "mean_completion_tokens": round(a["completion_tokens"] / ok, 2) if ok else None,
            "versions": sorted(a["versions"]),
        }
    pairs = [p for p in answers.values() if "shadow" in p and "served" in p]
    out["shadow_pairs"] = len(pairs)
    out["shadow_agreement"] = round(sum(p["shadow"] == p["served"] for p in pairs) / len(pairs), 4) if pairs else None
    return out


def render(rep: dict[str, Any]) -> str:
    lines = [
        f"# Rollout report ({rep['log']})",
        "",
        "| arm | versions | requests | errors | p50 ms | p95 ms | mean completion tokens |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for arm, a in rep["arms"].items():
        lines.append(
            f"| {arm} | {', '.join(a['versions']) or '-'} | {a['requests']} | {a['errors']} | "
            f"{_fmt(a['latency_p50_ms'])} | {_fmt(a['latency_p95_ms'])} | {_fmt(a['mean_completion_tokens'])} |"
        )
    if rep["shadow_pairs"]:
        lines += [
            "",
            f"Shadow: {rep['shadow_pairs']} requests answered by both; staging's answer equalled "
            f"production's in {rep['shadow_agreement']:.1%} of them.",
        ]
    return "\n".join(lines) + "\n"


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.0f}" if isinstance(x, float) and x >= 10 else str(x)
