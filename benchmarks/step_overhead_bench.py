"""Training time per optimizer step against sequence length: the per-step cost a FLOP count misses.

    PATH=.venv/bin:$PATH python benchmarks/step_overhead_bench.py                 # lengths 32 64 128 256
    PATH=.venv/bin:$PATH python benchmarks/step_overhead_bench.py --lengths 48 192 --steps 16 --out r.json

For each length L: classify-like examples of about L tokens (a prompt of random words, a one-word label)
go through the train stage itself (tuneloop.train.sft.run, the default preset and base, models/base), for
--steps optimizer steps, in a scratch folder. reports/timing.json there gives the measured seconds per step
and the stage's own FLOP estimate per step (at the efficiency in train/compute.py). A least-squares line
over the lengths, s/step = overhead + k x estimate/step, separates what grows with tokens (k: the estimate's
efficiency is off by 1/k) from what every step pays whatever its length (the overhead: optimizer, autograd
bookkeeping, data collation, logging). Printed side by side, with the fit; --out writes the JSON.
Needs models/base (make run, or `tuneloop base`). Run it alone on the machine: it measures wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def examples(tokenizer, labels: list[str], target: int, n: int, seed: int) -> list[dict]:
    from tuneloop.data.synth import SEPARATOR, classify_instruction

    rng = random.Random(seed)
    vocab = "order parcel refund charge account login password router camera app invoice plan tracking".split()
    head = classify_instruction(labels) + SEPARATOR
    rows = []
    for i in range(n):
        words: list[str] = []
        while len(tokenizer(head + " ".join(words)).input_ids) < target:
            words.append(rng.choice(vocab))
        label = labels[i % len(labels)]
        rows.append({"id": f"bench-{target}-{i}", "task": "classify", "user": head + " ".join(words), "answer": label})
    return rows


def one_length(params: dict, base: Path, target: int, steps: int, seed: int) -> dict:
    from transformers import AutoTokenizer

    from tuneloop.io import read_json, write_jsonl
    from tuneloop.train import sft

    tokenizer = AutoTokenizer.from_pretrained(base)
    batch = int(params["preset"]["batch_size"])
    labels = list(params["data"]["labels"])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_jsonl(work / "split/train.jsonl", examples(tokenizer, labels, target, batch * steps, seed))
        write_jsonl(work / "split/val.jsonl", examples(tokenizer, labels, target, batch, seed + 1))
        old = os.getcwd()
        os.chdir(work)
        try:
            start = time.perf_counter()
            sft.run(
                params,
                base_dir=base,
                split_dir=work / "split",
                out_dir=work / "adapter",
                metrics_file=work / "train.json",
                loss_plot=work / "loss.json",
                checkpoint_root=work / "ckpt",
            )
            total = time.perf_counter() - start
            timing = read_json(work / "reports/timing.json")["train"]
            compute = read_json(work / "train.json")["compute"]
        finally:
            os.chdir(old)
    est = timing["estimate"]
    return {
        "target_tokens": target,
        "tokens_per_example": compute["tokens_per_example"]["mean"],
        "steps": timing["steps_run"],
        "s_per_step": round(timing["wall_seconds"] / timing["steps_run"], 3),
        "estimate_s_per_step": round(est["seconds"] / est["for_steps"], 3),
        "error_pct": est["error_pct"],
        "bound_gflops": est["bound_gflops"],
        "stage_seconds_incl_load": round(total, 1),
    }


def fit(rows: list[dict]) -> dict:
    """Least squares s/step = overhead + k x estimate/step."""
    xs = [r["estimate_s_per_step"] for r in rows]
    ys = [r["s_per_step"] for r in rows]
    n, mx, my = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else float("nan")
    overhead = my - k * mx
    residual = max(abs(overhead + k * x - y) / y for x, y in zip(xs, ys))
    return {
        "overhead_s_per_step": round(overhead, 3),
        "k": round(k, 3),
        "max_relative_residual": round(residual, 3),
        "n": n,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lengths", type=int, nargs="+", default=[32, 64, 128, 256])
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--base", type=Path, default=ROOT / "models/base")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("overrides", nargs="*", help="tuneloop params overrides (default: the repository's defaults)")
    args = ap.parse_args(argv)
    if not (args.base / "config.json").exists():
        print(f"{args.base}: no base model (make run, or tuneloop base): nothing measured")
        return 0
    from tuneloop.params import compose
    from tuneloop.train import compute

    params = compose(
        [*args.overrides, f"preset.max_steps={args.steps}", "preset.save_steps=100000"], conf_dir=ROOT / "conf"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}; "
        f"preset {params['preset']['name']}, batch {params['preset']['batch_size']}, {args.steps} steps; "
        f"efficiency in the estimate {compute.EFFICIENCY}"
    )
    rows = []
    for length in args.lengths:
        row = one_length(params, args.base, length, args.steps, args.seed)
        rows.append(row)
        print(
            f"  ~{row['tokens_per_example']:>5.0f} tokens/example: {row['s_per_step']:6.2f} s/step measured, "
            f"{row['estimate_s_per_step']:6.2f} estimated ({row['error_pct']:+.0f}%), bound {row['bound_gflops']} GFLOP/s"
        )
    result = {"rows": rows, "fit": fit(rows), "load_after": os.getloadavg()[0]}
    f = result["fit"]
    print(
        f"fit: s/step = {f['overhead_s_per_step']} s + {f['k']} x estimate  (implied efficiency "
        f"{compute.EFFICIENCY['cpu'] / f['k']:.2f}; worst residual {f['max_relative_residual']:.1%})"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
