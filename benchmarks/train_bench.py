"""Training throughput, side by side on the same examples: the train stage now, the train stage before
padding-free batches, and a plain TRL SFTTrainer script. Real (non-pad) tokens/s, s/step, CPU s/step,
achieved FLOP/s against this machine's measured matmul bound, peak RSS.

    .venv/bin/python benchmarks/train_bench.py --steps 20         # needs models/base, data/splits (make run)
    .venv/bin/python benchmarks/train_bench.py --steps 2 --max-length 640 --full-length   # memory
    .venv/bin/python benchmarks/train_bench.py --steps 2 --max-length 640 --full-length --only stage --checkpointing off

Every variant runs in its own child process, one after the other (peak RSS is the child's ru_maxrss),
on the examples the train stage selects from params.yaml (the default: 571 examples, batch 8,
<= 256 tokens), for --steps optimizer steps, no checkpoints; --full-length instead joins training
prompts so that every example is cut to exactly --max-length tokens (the default corpus has none that long):
  stage         the train stage as it is: padding-free rows, attention per example, LM head on the
                completion positions only (train/packing.py), the preset's order (cpu: random), gradient
                checkpointing by the preset's rule (auto: off at 8 x 256 tokens, on at 8 x 640 on CPU);
  stage_before  the same stage with padded batches and TRL's loss over the LM head of every position
                (what it did before packing.py), group_by_length order;
  plain_trl     the script a user writes from TRL's docs on the same prompt/completion examples: LoRA r 8 /
                alpha 16 on all linear layers, SFTConfig defaults (gradient checkpointing on) except fp32
                (TRL's bf16 default is ~20x slower on a CPU without bf16) and the same lr/batch/max_length;
                padded, random order.
On a shared machine wall time depends on the neighbours; CPU seconds per step less so: both are shown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ["stage", "stage_before", "plain_trl"]


class Meter:
    """A TrainerCallback (built lazily) timing training proper: wall and CPU seconds, steps."""

    def __new__(cls):
        from transformers import TrainerCallback

        class _Meter(TrainerCallback):
            wall = cpu = 0.0
            steps = 0

            def on_train_begin(self, args, state, control, **kwargs):
                self.t0, self.c0 = time.perf_counter(), time.process_time()

            def on_train_end(self, args, state, control, **kwargs):
                self.wall, self.cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
                self.steps = state.global_step

        return _Meter()


def counting(trainer_cls):
    """trainer_cls counting the tokens of each training batch: real (attention mask) and computed (shape)."""

    class Counting(trainer_cls):
        bench_real = bench_computed = bench_labels = 0

        def training_step(self, model, inputs, num_items_in_batch=None):
            mask = inputs.get("attention_mask")
            self.bench_real += int(mask.sum()) if mask is not None else inputs["input_ids"].numel()
            self.bench_computed += inputs["input_ids"].numel()
            self.bench_labels += int((inputs["labels"][:, 1:] != -100).sum())
            return super().training_step(model, inputs, num_items_in_batch)

    return Counting


def full_length_split(params: dict, steps: int, out: Path) -> Path:
    """The memory case: batch x steps training examples whose prompt is several training prompts joined,
    so that the stage (and plain TRL's truncation) cuts every example to exactly max_length tokens. The
    default corpus has no example near 640 tokens; a company's long tickets and transcripts do."""
    import shutil

    from tuneloop.io import read_jsonl, write_jsonl

    rows = read_jsonl(ROOT / "data/splits/train.jsonl")
    n, k = int(params["preset"]["batch_size"]) * steps, 8  # 8 prompts of >= 100 tokens each exceed 640

    def joined(i: int) -> list[dict]:
        users = [rows[(i * k + j) % len(rows)]["prompt"][-1]["content"] for j in range(k)]
        return [*rows[i]["prompt"][:-1], {"role": "user", "content": "\n\n".join(users)}]

    long_rows = [{**rows[i], "prompt": joined(i)} for i in range(n)]
    split = out / "splits"
    split.mkdir(parents=True, exist_ok=True)
    write_jsonl(split / "train.jsonl", long_rows)
    shutil.copy(ROOT / "data/splits/val.jsonl", split / "val.jsonl")
    return split


def child(
    variant: str, steps: int, max_length: int | None, out: Path, full_length: bool = False, checkpointing: str = "auto"
) -> dict:
    os.chdir(out)  # .cache/, reports/timing.json of the run land in the scratch folder
    from tuneloop import hardware
    from tuneloop.params import load_params
    from tuneloop.train import compute, sft

    params = load_params(ROOT / "params.yaml")
    params["preset"].update(max_steps=steps, save_steps=0, logging_steps=max(steps // 4, 1))
    if max_length:
        params["preset"]["max_length"] = max_length
    params["preset"]["gradient_checkpointing"] = {"auto": "auto", "on": True, "off": False}[checkpointing]
    split = ROOT / "data/splits"
    if full_length:
        split = full_length_split(params, steps, out)
        params["preset"]["max_train_examples"] = None  # every joined example, not the preset's per-task sample
    meter = Meter()
    captured = {}
    if variant == "plain_trl":
        return plain_trl(params, steps, meter, out, split)
    stock = sft._trainer_class
    if variant == "stage_before":
        from trl import SFTTrainer

        params["preset"]["padding_free"] = False
        params["preset"]["group_by_length"] = True  # what the stage did with padded batches
        sft._trainer_class = lambda: counting(SFTTrainer)
    else:
        sft._trainer_class = lambda: counting(stock())

    original = sft._use_progress_lines

    def keep_trainer(trainer, extra, preset):
        captured["trainer"] = trainer
        original(trainer, [*extra, meter], preset)

    sft._use_progress_lines = keep_trainer
    sft.run(
        params,
        base_dir=ROOT / "models/base",
        split_dir=split,
        out_dir=out / "adapter",
        metrics_file=out / "train.json",
        loss_plot=out / "loss.json",
    )
    trainer = captured["trainer"]
    counts = compute.parameter_counts(trainer.model)
    hw = hardware.detect()
    head_tokens = trainer.bench_labels if variant == "stage" else trainer.bench_computed
    flops = compute.training_flops(
        counts, trainer.bench_computed, head_tokens, full=False, recompute=bool(trainer.args.gradient_checkpointing)
    )["executed"]
    cfg = trainer.model.config
    bound = compute.matmul_flops(cfg.hidden_size, cfg.intermediate_size, 1024, hw.device, hw.dtype)
    timing = json.loads((out / "reports/timing.json").read_text())["train"]
    return _figures(variant, meter, trainer, flops, bound, timing["estimate"])


def plain_trl(params: dict, steps: int, meter, out: Path, split: Path) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from tuneloop import hardware
    from tuneloop.params import resolve_training
    from tuneloop.train import compute
    from tuneloop.train.lengths import fit_rows
    from tuneloop.train.sft import load_split

    preset, seed = resolve_training(params), int(params["seed"])
    base = ROOT / "models/base"
    tok = AutoTokenizer.from_pretrained(base)
    rows, _ = fit_rows(
        load_split(split / "train.jsonl", preset["max_train_examples"], seed), tok, int(preset["max_length"])
    )  # the same examples as the stage
    ds = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
    model = AutoModelForCausalLM.from_pretrained(base)
    args = SFTConfig(
        output_dir=str(out / "plain"),
        max_steps=steps,
        learning_rate=float(preset["learning_rate"]),
        per_device_train_batch_size=int(preset["batch_size"]),
        max_length=int(preset["max_length"]),
        bf16=False,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        logging_steps=max(steps // 4, 1),
        seed=seed,
        disable_tqdm=True,
    )
    lora = LoraConfig(
        r=int(preset["lora_rank"]),
        lora_alpha=int(preset["lora_alpha"]),
        lora_dropout=0.05,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    trainer = counting(SFTTrainer)(
        model=model, args=args, train_dataset=ds, processing_class=tok, peft_config=lora, callbacks=[meter]
    )
    trainer.train()
    counts = compute.parameter_counts(trainer.model)
    flops = compute.training_flops(
        counts, trainer.bench_computed, trainer.bench_computed, full=False, recompute=bool(args.gradient_checkpointing)
    )["executed"]
    hw = hardware.detect()
    bound = compute.matmul_flops(model.config.hidden_size, model.config.intermediate_size, 1024, hw.device, hw.dtype)
    fig = _figures("plain_trl", meter, trainer, flops, bound, None)
    return fig


def _figures(variant: str, meter, trainer, flops: float, bound: float, estimate: dict | None) -> dict:
    return {
        "variant": variant,
        "steps": meter.steps,
        "wall_s": round(meter.wall, 1),
        "cpu_s": round(meter.cpu, 1),
        "s_per_step": round(meter.wall / meter.steps, 2),
        "cpu_s_per_step": round(meter.cpu / meter.steps, 2),
        "real_tokens": trainer.bench_real,
        "computed_tokens": trainer.bench_computed,
        "label_tokens": trainer.bench_labels,
        "real_tokens_per_step": round(trainer.bench_real / meter.steps),
        "real_tokens_per_s": round(trainer.bench_real / meter.wall, 1),
        "real_tokens_per_cpu_s": round(trainer.bench_real / meter.cpu, 1),
        "gflops_executed": round(flops / 1e9, 1),
        "achieved_gflops": round(flops / meter.wall / 1e9, 2),
        "bound_gflops": round(bound / 1e9, 1),
        "fraction_of_bound": round(flops / meter.wall / bound, 3),
        "gradient_checkpointing": bool(trainer.args.gradient_checkpointing),
        "estimate": estimate,
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--max-length", type=int, default=None, help="override preset.max_length (memory: 640)")
    ap.add_argument("--only", nargs="*", choices=VARIANTS, default=VARIANTS)
    ap.add_argument(
        "--checkpointing",
        choices=["auto", "on", "off"],
        default="auto",
        help="preset.gradient_checkpointing of the stage variants (auto: the preset's rule)",
    )
    ap.add_argument(
        "--full-length",
        action="store_true",
        help="every example cut to exactly --max-length tokens (joined prompts): the memory case",
    )
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        result = child(a.child, a.steps, a.max_length, Path(a.out), a.full_length, a.checkpointing)
        Path(a.out, "result.json").write_text(json.dumps(result))
        return 0
    if not (ROOT / "models/base").is_dir() or not (ROOT / "data/splits/train.jsonl").exists():
        raise SystemExit("needs models/base and data/splits: run `dvc repro split base` first")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at start; {a.steps} steps per variant, one after the other",
        flush=True,
    )
    results = []
    for variant in a.only:
        with tempfile.TemporaryDirectory(prefix=f"train_bench_{variant}_") as tmp:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
            cmd = [sys.executable, __file__, "--child", variant, "--steps", str(a.steps), "--out", tmp]
            if a.max_length:
                cmd += ["--max-length", str(a.max_length)]
            if a.full_length:
                cmd.append("--full-length")
            cmd += ["--checkpointing", a.checkpointing]
            log = Path(tmp, "child.log")
            with log.open("w") as err:  # a file, not a pipe: a pipe nobody reads blocks a chatty child
                proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
                _, status, usage = os.wait4(proc.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{variant} failed:\n{log.read_text()[-3000:]}")
            r = json.loads(Path(tmp, "result.json").read_text())
            r["peak_rss_gib"] = round(usage.ru_maxrss / 2**20, 2)
            results.append(r)
            print(json.dumps(r), flush=True)
    print(
        "\n| variant | steps | s/step | CPU s/step | real tokens/s | real tokens/CPU-s | computed tokens "
        "| achieved GFLOP/s | matmul bound GFLOP/s | fraction | peak RSS GiB |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for r in results:
        print(
            f"| {r['variant']} | {r['steps']} | {r['s_per_step']} | {r['cpu_s_per_step']} | {r['real_tokens_per_s']} "
            f"| {r['real_tokens_per_cpu_s']} | {r['computed_tokens']} | {r['achieved_gflops']} | {r['bound_gflops']} "
            f"| {r['fraction_of_bound']} | {r['peak_rss_gib']} |"
        )
    by = {r["variant"]: r for r in results}
    for other in ("stage_before", "plain_trl"):
        if "stage" in by and other in by:
            print(
                f"stage vs {other}: {by['stage']['real_tokens_per_s'] / by[other]['real_tokens_per_s']:.2f}x real "
                f"tokens/s (wall), {by['stage']['real_tokens_per_cpu_s'] / by[other]['real_tokens_per_cpu_s']:.2f}x "
                "per CPU second"
            )
    if "stage" in by and by["stage"]["estimate"]:
        e = by["stage"]["estimate"]
        print(
            f"stage estimate before training: {e['seconds']} s predicted for {e['for_steps']} steps, "
            f"error {e['error_pct']:+.1f}% (efficiency assumed {e['efficiency']})"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}; ru_maxrss of each child process includes model loading")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
