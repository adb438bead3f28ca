"""Time the full eval harness for three models (base, champion, candidate) on the embedded default.

    .venv/bin/python benchmarks/eval_bench.py             # after `make run` (needs models/, data/splits/)
    .venv/bin/python benchmarks/eval_bench.py --no-compare

1. The whole `evaluate` stage as CI runs it on a pull request with a champion: base, champion and
   candidate through every layer (task evals, frozen regression suite, probes). The champion here is a
   copy of the candidate adapter (same cost as a real one). Prints wall time per model and per task.
   Target (issue 4): the whole stage under 5 minutes on this machine.
2. Side by side, on the base model and the same test tickets: classification by short greedy generation
   (what the harness does) against log-likelihood over the 8 labels (`tuneloop_classify_loglik`).

Writes nothing the pipeline tracks: metrics and samples go to a temporary directory.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 5 * 60


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores, {gpu}, torch {torch.__version__}"


def full_harness(params: dict, tmp: Path) -> dict:
    from tuneloop.evals import evaluate
    from tuneloop.io import read_json

    champion = tmp / "champion"
    shutil.copytree(evaluate.ADAPTER_DIR, champion)
    start = time.perf_counter()
    table = evaluate.run(
        params,
        champion_dir=champion,
        metrics_file=tmp / "eval.json",
        samples_file=tmp / "samples.jsonl",
        flips_file=tmp / "flips.json",
    )
    wall = time.perf_counter() - start
    timing = read_json("reports/timing.json")["evaluate"]
    print(
        f"\n## Full harness, 3 models ({', '.join(table['models'])}): {wall:.0f} s "
        f"(target < {TARGET_SECONDS} s: {'MET' if wall < TARGET_SECONDS else 'MISSED'})\n"
    )
    tasks = list(timing["per_task_seconds"]["candidate"])
    print("| task | layer | items | " + " | ".join(f"{m} s" for m in table["models"]) + " |")
    print("|---|---|---:|" + "---:|" * len(table["models"]))
    for task in tasks:
        row = [f"{timing['per_task_seconds'][m][task]:.0f}" for m in table["models"]]
        print(f"| {task} | {table['layers'][task]} | {table[task]['n']} | " + " | ".join(row) + " |")
    print(
        "| **total** | | | " + " | ".join(f"**{timing['per_model_seconds'][m]:.0f}**" for m in table["models"]) + " |"
    )
    if table["skipped"]:
        print("\nskipped: " + "; ".join(f"{t} ({why})" for t, why in table["skipped"].items()))
    return {"wall_seconds": wall, **timing}


def classify_styles(params: dict, limit: int) -> None:
    from tuneloop.evals import evaluate

    print(f"\n## Classification, base model, first {limit} test tickets: generation vs log-likelihood\n")
    print("| scoring | seconds | items/s | accuracy |\n|---|---:|---:|---:|")
    for task, settings in (
        ("tuneloop_classify", {"max_gen_toks": 8}),
        ("tuneloop_classify_loglik", {"max_gen_toks": 8}),
    ):
        start = time.perf_counter()
        scores, _, _ = evaluate.score_model(
            "base", evaluate.BASE_DIR, None, params, {task: {**settings, "limit": limit}}
        )
        wall = time.perf_counter() - start
        n = scores[task]["n"]
        print(f"| {task} | {wall:.1f} | {n / wall:.2f} | {scores[task]['acc']:.3f} |")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-compare", action="store_true", help="skip the generation vs log-likelihood table")
    parser.add_argument("--compare-limit", type=int, default=48)
    args = parser.parse_args(argv)
    os.chdir(Path(__file__).resolve().parents[1])
    logging.basicConfig(level=logging.WARNING)
    from tuneloop.params import load_params

    params = load_params()
    for needed in ("models/base", "models/adapter", "data/splits/test.jsonl"):
        if not Path(needed).exists():
            raise SystemExit(f"{needed} is missing: run `make run` (or `dvc repro`) first")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        full_harness(params, Path(tmp))
    if not args.no_compare:
        classify_styles(params, args.compare_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
