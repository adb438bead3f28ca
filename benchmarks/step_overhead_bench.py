"""Training time per optimizer step against sequence length: where the estimate's one efficiency failed.

    PATH=.venv/bin:$PATH python benchmarks/step_overhead_bench.py                 # user texts of 16 48 112 224 tokens
    PATH=.venv/bin:$PATH python benchmarks/step_overhead_bench.py --lengths 48 192 --steps 16 --out r.json

For each length L: classify-like examples of about L tokens (a prompt of random words, a one-word label)
go through the train stage itself (tuneloop.train.sft.run, the default preset and base, models/base), for
--steps optimizer steps, in a scratch folder. reports/timing.json there gives the measured seconds per step
and the stage's own estimate (its error per length); metrics/train.json its FLOP counts: the weight matmuls
and attention's L^2 products apart. A least-squares fit over the lengths, wall = F / (bound x e) + A / (bound
x e_attention), gives the two efficiencies train/compute.py uses (short examples are mostly weight matmuls,
long ones add attention, which runs at a fraction of the rate). Printed side by side; --out writes the JSON.
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


def examples(tokenizer, labels: list[str], system: str, target: int, n: int, seed: int) -> list[dict]:
    from tuneloop.data.synth import SEPARATOR

    rng = random.Random(seed)
    vocab = "order parcel refund charge account login password router camera app invoice plan tracking".split()
    head = "Category?" + SEPARATOR  # short, so that the user text sets the length (the chat template adds ~30)
    rows = []
    for i in range(n):
        words: list[str] = []
        while len(tokenizer(head + " ".join(words)).input_ids) < target:
            words.append(rng.choice(vocab))
        label = labels[i % len(labels)]
        user = head + " ".join(words)
        rows.append(
            {
                "id": f"bench-{target}-{i}",
                "group": f"bench-{target}-{i}",
                "task": "classify",
                "user": user,
                "answer": label,
                "prompt": [{"role": "system", "content": system}, {"role": "user", "content": user}],
                "completion": [{"role": "assistant", "content": label}],
            }
        )
    return rows


def one_length(params: dict, base: Path, target: int, steps: int, seed: int) -> dict:
    from transformers import AutoTokenizer

    from tuneloop.io import read_json, write_jsonl
    from tuneloop.train import sft

    tokenizer = AutoTokenizer.from_pretrained(base)
    batch = int(params["preset"]["batch_size"])
    labels, system = list(params["data"]["labels"]), params["data"]["system_prompt"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_jsonl(work / "split/train.jsonl", examples(tokenizer, labels, system, target, batch * steps, seed))
        write_jsonl(work / "split/val.jsonl", examples(tokenizer, labels, system, target, batch, seed + 1))
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
            compute = read_json(work / "train.json")["compute"]  # the estimate's FLOP counts
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
        "wall_seconds": timing["wall_seconds"],
        "flops": compute["flops"],
        "flops_attention": compute["flops_attention"],
        "bound": est["bound_gflops"] * 1e9,
    }


def fit(rows: list[dict]) -> dict:
    """Least squares wall = F / (bound x e_weights) + A / (bound x e_attention) over the lengths: the two
    efficiencies of train/compute.py that this machine's figures imply, and the worst error with them."""
    xs = [(r["flops"] / r["bound"], r["flops_attention"] / r["bound"], r["wall_seconds"]) for r in rows]
    sxx, sxy, syy = (sum(a * a for a, _, _ in xs), sum(a * b for a, b, _ in xs), sum(b * b for _, b, _ in xs))
    sxm, sym = sum(a * m for a, _, m in xs), sum(b * m for _, b, m in xs)
    det = sxx * syy - sxy * sxy
    p, q = (sxm * syy - sym * sxy) / det, (sym * sxx - sxm * sxy) / det
    worst = max(abs(m - (a * p + b * q)) / (a * p + b * q) for a, b, m in xs)
    return {"efficiency": round(1 / p, 3), "attention_efficiency": round(1 / q, 3), "worst_error": round(worst, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lengths", type=int, nargs="+", default=[16, 48, 112, 224], help="user-text tokens")
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
        f"fit: efficiency {f['efficiency']} (weights), {f['attention_efficiency']} (attention), worst error "
        f"{f['worst_error']:.1%}; in train/compute.py now: {compute.EFFICIENCY['cpu']}, {compute.ATTENTION_EFFICIENCY['cpu']}"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
