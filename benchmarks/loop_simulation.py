"""The retraining loop on the drifting stream with the real base (docs/loop.md, "Simulation").

    PYTHONPATH=src nice -n 19 python benchmarks/loop_simulation.py --base models/base --out reports/simulation
    PYTHONPATH=src python benchmarks/loop_simulation.py --weeks 24 --per-week 160 retrain.policy.min_weeks_between=3
    (docs/loop.md: 44 min on 2 idle cores; at 80 a week no CPU training clears the gate's floor)

Composes conf/ (the repo's defaults: SmolLM2-135M, preset cpu) with the Hydra overrides given, runs
`tuneloop monitor simulate`'s loop (src/tuneloop/monitor/simulate.py: real prepare/build/split/train through the
CLI, greedy scoring) and prints the per-week accuracies of both arms, the retrains and the wall time.
A long run writes OUT/partial.json after every week, so an interrupted run still has its figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

from tuneloop.monitor import simulate
from tuneloop.params import compose


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="models/base")
    ap.add_argument("--out", default="reports/simulation")
    ap.add_argument("--weeks", type=int, default=24)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--history", type=int, default=5)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--per-week", type=int, default=160)
    ap.add_argument("--eval-per-week", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides of conf/, e.g. retrain.policy.min_weeks_between=3")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    params = compose(args.overrides)
    t0 = time.perf_counter()
    result = simulate.run(
        params,
        args.base,
        args.out,
        weeks=args.weeks,
        start=args.start,
        history=args.history,
        window=args.window,
        per_week=args.per_week,
        eval_per_week=args.eval_per_week,
        seed=args.seed,
    )
    print("| week | events | without the loop | with the loop | loop adapter | retrain |")
    print("|---:|---|---:|---:|---|---|")
    for w in result["weeks"]:
        print(
            f"| {w['week']} | {', '.join(w['events']) or '-'} | {w['static']['accuracy']:.3f} | "
            f"{w['loop']['accuracy']:.3f} | {w['loop']['adapter']} | {'; '.join(w['reasons']) if w['retrain'] else ''} |"
        )
    print(
        json.dumps(
            {
                "summary": result["summary"],
                "retrains": result["retrains"],
                "trainings": result["trainings"],
                "wall_seconds": round(time.perf_counter() - t0, 1),
            },
            indent=2,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
