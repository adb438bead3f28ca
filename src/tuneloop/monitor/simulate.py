"""`tuneloop monitor simulate`: the drifting stream (data/example/stream.py) week by week, with and without the loop.

    tuneloop monitor simulate --base models/base --weeks 24 --out reports/simulation     # SmolLM2-135M, small budgets
    tuneloop monitor simulate --base models/base --weeks 24 preset.epochs=2          # overrides: dotted keys


Both arms start from one adapter trained on the `history` weeks before `start`. Each week, the week's
tickets (their first `eval_per_week`) score both arms' current adapters (score.py: greedy classification,
the harness's label matching): that is "accuracy on fresh data". Without the loop the week-0 adapter
serves forever. With it, each week the monitor compares the tickets since the last training with that
training split (report.compare: domain AUC, PSI, label drift, new terms) and adds the fresh-accuracy
signal; the policy (conf/retrain, `--cadence` overrides its cadence) decides; a retrain trains a
candidate on the last `window` weeks by running the real stages in a scratch repo (`tuneloop prepare`,
`build`, `split`, `train` through the CLI: TRL + PEFT, the project's preset), and the candidate replaces
production only if it clears the gate's accuracy floor on its held-out split and is no worse than the
champion there beyond the gate's margin, judged as the referee does: the one-sided 95% paired-bootstrap
lower bound of (candidate - champion) on the same items >= -margin (conf/gate, the classify task only).
Labels seen at least 5 times in the window are the candidate's label set (a person adding the new
category to conf/data, in the real loop). A week whose production adapter scores under the floor is an
alert (what `tuneloop monitor retrain --eval-adapter` raises as an issue); a candidate refused while production
is under the floor leaves no adapter clearing it, and is logged as a warning and counted (`stuck`).
Writes result.json and simulation.png under `out`.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tuneloop.data.example import stream
from tuneloop.data.synth import SEPARATOR
from tuneloop.evals.stats import paired_bootstrap
from tuneloop.io import read_jsonl, write_json, write_jsonl
from tuneloop.monitor import plots, retrain_policy, sources
from tuneloop.monitor.report import compare
from tuneloop.prompts import Contract

log = logging.getLogger(__name__)

MIN_LABEL_COUNT = 5
STAGES = ("prepare", "index", "build", "split", "train")
RUN_STAGES = (
    "import sys\nfrom tuneloop.cli import main\n"
    "for s in sys.argv[1:]:\n    rc = main([s])\n    if rc:\n        sys.exit(rc)\n"
)


def _set(params: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = params
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value


class Loop:
    def __init__(self, params: dict, base: Path, out: Path, per_week: int, seed: int, overrides: list[str]):
        self.params, self.base, self.out, self.per_week, self.seed = params, base.resolve(), out, per_week, seed
        self.overrides = overrides
        self.weeks: dict[int, list[dict]] = {}
        self.products = dict(params["retrain"]["products"])
        self.trainings: list[dict] = []
        from tuneloop.data.pii import Redactor

        self.redactor = Redactor(params.get("redact"))  # the rules engine: fast, and enough for the counts

    def tickets(self, week: int) -> list[dict]:
        if week not in self.weeks:
            self.weeks[week] = stream.week_tickets(week, self.per_week, self.seed)
        return self.weeks[week]

    def rows(self, weeks: range) -> list[dict]:
        recs = [{**t, "kind": "ticket", "id": t["ticket_id"]} for w in weeks for t in self.tickets(w)]
        recs = [r for r, _ in self.redactor.redact_records(recs, ["subject", "customer_message"])]
        return [r for r in (sources.row(x, self.products) for x in recs) if r is not None]

    def train(self, name: str, weeks: range) -> dict[str, Any]:
        """Train an adapter on `weeks` of tickets with the real stages, in a scratch repo."""
        work = self.out / "work" / name
        shutil.rmtree(work, ignore_errors=True)
        (work / "data" / "raw").mkdir(parents=True)
        (work / "models").mkdir()
        (work / "models" / "base").symlink_to(self.base)
        tickets = [t for w in weeks for t in self.tickets(w)]
        write_jsonl(work / "data" / "raw" / "tickets.jsonl", tickets)
        counts = Counter(t["category"] for t in tickets)
        known = list(self.params["data"]["labels"])
        labels = [c for c in known if counts[c] >= MIN_LABEL_COUNT] + sorted(
            c for c, n in counts.items() if c not in known and n >= MIN_LABEL_COUNT
        )
        params = yaml.safe_load(yaml.safe_dump(self.params))
        for key, value in {
            "data.tickets": ["data/raw/tickets.jsonl"],
            "data.kb_dir": None,
            "data.sources": [],
            "data.labels": labels,
            "data.tasks": ["classify"],
            "redact.engine": "rules",
            "data.split": {"train": 0.75, "val": 0.05, "test": 0.2},
            "logger": {"name": "none"},
        }.items():
            _set(params, key, value)
        for o in self.overrides:
            key, _, value = o.partition("=")
            _set(params, key, yaml.safe_load(value))
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", RUN_STAGES, *STAGES],
            cwd=work,
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH")) if p
                ),
            },
        )
        if proc.returncode != 0:
            raise RuntimeError(f"simulate: training {name} failed in {work}:\n{(proc.stdout + proc.stderr)[-3000:]}")
        test = [e for e in read_jsonl(work / "data/splits/test.jsonl") if e["task"] == "classify"]
        metrics = yaml.safe_load((work / "metrics/train.json").read_text())
        run = {
            "name": name,
            "adapter": work / "models" / "adapter",
            "labels": labels,
            "weeks": [weeks.start, weeks.stop - 1],
            "work": work,
            "seconds": round(time.perf_counter() - t0, 1),
            "train_examples": metrics["train_examples"],
            "steps": metrics["steps"],
            "train_loss": metrics["train_loss"],
            "test": [{"text": e["user"].split(SEPARATOR, 1)[1], "category": e["label"]} for e in test],
            "reference": sources.reference_rows(
                work / "data/splits/train.jsonl", work / "data/prepared/records.jsonl", self.products
            ),
        }
        self.trainings.append({k: v for k, v in run.items() if k not in ("test", "reference", "adapter", "work")})
        log.info(
            "simulate: trained %s on weeks %s..%s (%d examples, %d steps) in %.0f s",
            name,
            weeks.start,
            weeks.stop - 1,
            run["train_examples"],
            run["steps"],
            run["seconds"],
        )
        return run


def run(
    params: dict[str, Any],
    base: str | Path,
    out: str | Path,
    weeks: int = 24,
    start: int = 0,
    history: int = 6,
    window: int = 8,
    per_week: int = 60,
    eval_per_week: int = 48,
    cadence: float | None = None,
    seed: int = 0,
    overrides: list[str] | None = None,
) -> dict[str, Any]:
    from tuneloop.monitor.score import Scorer, classify_rule

    base, out = Path(base), Path(out)
    if not (base / "config.json").exists():
        raise FileNotFoundError(f"{base}: no base model (build it with `tuneloop base` or `dvc pull models/base`)")
    cfg = params["retrain"]
    pol = {**cfg["policy"], **({"cadence_weeks": cadence} if cadence else {})}
    floor, margin = classify_rule(params, "min"), classify_rule(params, "non_inferior")
    if floor is None or margin is None:
        raise ValueError(
            "simulate: conf/gate needs a `min` and a `non_inferior` rule on tuneloop_classify.acc "
            "(the referee's floor and margin, which decide each promotion)"
        )
    loop = Loop(params, base, out, per_week, seed, list(overrides or []))
    scorer = Scorer(base, Contract.from_params(params))
    first = loop.train(f"week{start:+03d}", range(start - history, start))
    static = champion = first
    trained_week = start - 1
    weeks_out, retrains = [], []
    for week in range(start, start + weeks):
        fresh = [
            {"text": r["text"], "subject": r.get("subject"), "category": r["category"]}
            for r in loop.rows(range(week, week + 1))
        ][:eval_per_week]
        s = scorer.accuracy(static["adapter"], fresh, static["labels"])
        c = s if champion is static else scorer.accuracy(champion["adapter"], fresh, champion["labels"])
        since = loop.rows(range(trained_week + 1, week + 1))
        report = compare(champion["reference"], since, None, champion["labels"], cfg, seed)
        signals = report["signals"] + [
            x for x in retrain_policy.fired({}, cfg["thresholds"], c["accuracy"], floor) if x["family"] == "eval"
        ]
        decision = retrain_policy.decide(signals, week - trained_week, len(since), pol)
        row = {
            "week": week,
            "events": stream.events_by(week),
            "static": s,
            "loop": {**c, "adapter": champion["name"]},
            "fired": decision["fired"],
            "reasons": decision["reasons"],
            "retrain": decision["retrain"],
            "alert": c["accuracy"] is not None and c["accuracy"] < floor,
        }
        if decision["retrain"]:
            cand = loop.train(f"week{week:+03d}", range(week - window + 1, week + 1))
            acc_c = scorer.accuracy(cand["adapter"], cand["test"], cand["labels"], with_items=True)
            acc_p = scorer.accuracy(champion["adapter"], cand["test"], champion["labels"], with_items=True)
            vs = paired_bootstrap(acc_c["items"], acc_p["items"])  # the referee's rule and seed
            promoted = acc_c["accuracy"] >= floor and vs["lower"] >= -margin
            trigger = (
                "cadence"
                if any(r.startswith("cadence") for r in decision["reasons"])
                else "signals: " + ", ".join(decision["fired"][:3])
            )
            stuck = not promoted and acc_p["accuracy"] < floor
            retrains.append(
                {
                    "week": week + 1,
                    "trigger": trigger,
                    "candidate": cand["name"],
                    "labels": cand["labels"],
                    "candidate_acc": acc_c["accuracy"],
                    "champion_acc": acc_p["accuracy"],
                    "vs_champion_lower": round(vs["lower"], 4),
                    "promoted": promoted,
                    "stuck": stuck,
                    "test_items": acc_c["n"],
                }
            )
            if stuck:
                log.warning(
                    "simulate: week %d: candidate %s refused (%.3f; floor %.2f; lower bound vs production %+.3f) "
                    "while production scores %.3f on the same tickets, under the floor: no adapter clears it; "
                    "a person must act",
                    week,
                    cand["name"],
                    acc_c["accuracy"],
                    floor,
                    vs["lower"],
                    acc_p["accuracy"],
                )
            trained_week = week
            if promoted:
                champion = cand
        weeks_out.append(row)
        write_json(
            out / "partial.json",
            {"floor": floor, "weeks": weeks_out, "retrains": retrains, "trainings": loop.trainings},
        )  # a long run can be read as it goes
        log.info(
            "simulate: week %d: static %.3f, loop %.3f%s",
            week,
            s["accuracy"],
            c["accuracy"],
            f"; retrain ({'; '.join(decision['reasons'])})" if decision["retrain"] else "",
        )
    result = {
        "floor": floor,
        "margin": margin,
        "weeks": weeks_out,
        "retrains": retrains,
        "trainings": loop.trainings,
        "events": {
            name: int(ev["week"])
            for name, ev in stream.drift_events().items()
            if start <= int(ev["week"]) < start + weeks
        },
        "settings": {
            "base": str(base),
            "weeks": weeks,
            "start": start,
            "history": history,
            "window": window,
            "per_week": per_week,
            "eval_per_week": eval_per_week,
            "policy": pol,
            "seed": seed,
            "overrides": list(overrides or []),
            "preset": params["preset"]["name"],
        },
        "title": f"{params['model']['name']}: accuracy on each week's fresh tickets",
    }
    result["summary"] = summarize(result)
    write_json(out / "result.json", result)
    plots.simulation_chart(result, out / "simulation.png")
    return result


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    floor = result["floor"]
    out = {}
    for arm in ("static", "loop"):
        acc = [w[arm]["accuracy"] for w in result["weeks"]]
        out[arm] = {
            "mean": round(sum(acc) / len(acc), 4),
            "min": min(acc),
            "last": acc[-1],
            "weeks_below_floor": sum(a < floor for a in acc),
        }
    out["retrains"] = len(result["retrains"])
    out["promoted"] = sum(r["promoted"] for r in result["retrains"])
    out["alerts"] = sum(w.get("alert", False) for w in result["weeks"])  # weeks production was under the floor
    out["stuck"] = sum(r.get("stuck", False) for r in result["retrains"])
    out["floor"] = floor
    return out
