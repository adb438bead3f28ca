"""What a training run costs, estimated before it starts and measured after it ends.

FLOPs are counted from the model's matmul weights and the tokens it sees, and attention's own L^2 term
apart (QK^T and AV: 4 x L^2 x hidden per layer forward, 12 with backward, per example: padding-free batches
attend within each example), because it runs at a lower efficiency than the weight matmuls:
  - forward 2 x weights x tokens; backward 2 x weights x tokens for the activations' gradients, plus
    2 x trainable weights x tokens for the weights' gradients (LoRA: only the adapter's; full: all):
    LoRA ~ 4N per token, full fine-tuning 6N per token. The usual "3 x 2 x params x tokens" (6NT)
    is reported beside it: it counts weight gradients a frozen base never computes;
  - the LM head (vocabulary x hidden) only on the positions the loss reads when the train stage
    projects those alone (train/packing.py), on every position otherwise;
  - padded positions cost as much as real ones: the estimate counts the batches' padded shape.
The machine's bound is measured, not looked up: `matmul_flops` times a matmul of the model's own
shape (on this device and dtype). A LoRA step reaches only a fraction of it (small matrices, autograd,
optimizer, data loading): EFFICIENCY, measured with benchmarks/train_bench.py, turns the bound into a
prediction (one efficiency for the weight matmuls, one for attention). metrics/train.json gets the deterministic part (tokens, FLOPs); the timed part (bound,
prediction, actual, error) goes to reports/timing.json with the other wall times.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections import defaultdict
from typing import Any

from tuneloop import hardware
from tuneloop.progress import duration

log = logging.getLogger("tuneloop.train")

# Achieved training FLOP/s as a fraction of the measured matmul bound (executed FLOPs, see above): the weight
# matmuls, and attention's L^2 products (small per-example matrices: a third of the rate).
# cpu: least squares over examples of 51-256 tokens (SmolLM2-135M LoRA, batch 8, padding-free, fp32, 2 cores,
# benchmarks/step_overhead_bench.py, 2026-12-04): every length within 4.4% (the single 0.45 of before erred
# -16% at 51-83 tokens and +2% at 256). cuda: not measured here; a conventional utilisation for small models.
EFFICIENCY = {"cpu": 0.55, "cuda": 0.30}
ATTENTION_EFFICIENCY = {"cpu": 0.25, "cuda": 0.30}

# Above this many tokens per step (batch x max_length) a CPU run recomputes activations in backward
# (preset.gradient_checkpointing: auto): 8 x 640 held 17.5 GiB without it on SmolLM2-135M (docs/training.md).
CPU_CHECKPOINT_TOKENS = 4096


def use_checkpointing(preset: dict, hw: hardware.Hardware) -> bool:
    """preset.gradient_checkpointing: true, false, or auto: on a GPU, and on CPU once a step holds more than
    CPU_CHECKPOINT_TOKENS tokens (batch x max_length), where every layer's activations kept for backward
    become the memory bill (docs/training.md has the figures)."""
    value = preset.get("gradient_checkpointing", "auto")
    if value == "auto":
        return hw.device == "cuda" or int(preset["batch_size"]) * int(preset["max_length"]) > CPU_CHECKPOINT_TOKENS
    if not isinstance(value, bool):
        raise ValueError(f"preset.gradient_checkpointing: {value!r} is not true, false or auto")
    return value


def parameter_counts(model) -> dict[str, int]:
    """Matmul weights of the transformer body, of the LM head, and trainable weights (all, in elements)."""
    import torch

    head = model.get_output_embeddings()
    head_weight = head.weight if head is not None else None
    body, seen = 0, set()
    for module in model.modules():  # PEFT's LoRA wrapper exposes its base layer's weight too: count each once
        weight = getattr(module, "weight", None)
        if (
            isinstance(weight, torch.Tensor)
            and weight.dim() == 2
            and weight is not head_weight
            and not isinstance(module, torch.nn.Embedding)
            and id(weight) not in seen
        ):
            seen.add(id(weight))
            body += weight.numel()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "body": body,
        "head": head_weight.numel() if head_weight is not None else 0,
        "trainable": trainable,
        "total": sum(p.numel() for p in model.parameters()),
    }


def token_stats(dataset, rows: list[dict]) -> dict[str, Any]:
    """Tokens per example after TRL's tokenization: total, prompt (no loss) and completion (loss), per task."""
    lengths = [len(ids) for ids in dataset["input_ids"]]
    learned = [sum(1 for t in labels if t != -100) for labels in dataset["labels"]]
    by_task: dict[str, list[int]] = defaultdict(list)
    for row, n in zip(rows, lengths):
        by_task[row.get("task", "?")].append(n)
    return {
        "examples": len(lengths),
        "tokens": sum(lengths),
        "completion_tokens": sum(learned),
        "prompt_tokens": sum(lengths) - sum(learned),
        "per_example": {
            "mean": round(statistics.fmean(lengths), 1) if lengths else 0,
            "median": statistics.median(lengths) if lengths else 0,
            "max": max(lengths, default=0),
        },
        "per_example_by_task": {t: round(statistics.fmean(v), 1) for t, v in sorted(by_task.items())},
        "lengths": lengths,
        "learned": learned,
    }


def padded_tokens(lengths: list[int], batch_size: int, group_by_length: bool, seed: int) -> int:
    """Tokens a padded epoch computes: each batch padded to its longest example (a seeded simulation of the
    sampler's batching: the exact batches depend on the data loader's generator, the padding hardly does)."""
    import torch

    if group_by_length:
        from transformers.trainer_pt_utils import get_length_grouped_indices

        order = get_length_grouped_indices(lengths, batch_size, generator=torch.Generator().manual_seed(seed))
    else:
        order = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(seed)).tolist()
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return sum(max(lengths[i] for i in b) * len(b) for b in batches)


def training_flops(
    counts: dict[str, int], tokens: int, head_tokens: int, full: bool, recompute: bool = False
) -> dict[str, float]:
    """Executed FLOPs of training on `tokens` (LM head on `head_tokens`), and the conventional 6NT.
    Gradient checkpointing (`recompute`) runs the body's forward a second time in backward: + 2N per token."""
    grad_weights = counts["body"] if full else counts["trainable"]
    executed = ((4 + 2 * recompute) * counts["body"] + 2 * grad_weights) * tokens + (4 + 2 * full) * counts[
        "head"
    ] * head_tokens
    return {"executed": float(executed), "six_nt": float(6 * (counts["body"] + counts["head"]) * tokens)}


def eval_flops(counts: dict[str, int], tokens: int, head_tokens: int) -> float:
    return float(2 * counts["body"] * tokens + 2 * counts["head"] * head_tokens)


def matmul_flops(hidden: int, intermediate: int, rows: int, device: str, dtype, seconds: float = 0.5) -> float:
    """Measured FLOP/s of this device on a matmul shaped like the model's MLP (rows x hidden @ hidden x inter)."""
    import torch

    a = torch.randn(rows, hidden, device=device, dtype=dtype)
    b = torch.randn(hidden, intermediate, device=device, dtype=dtype)
    for _ in range(2):  # warm-up (allocator, kernels)
        a @ b
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    n, start = 0, time.perf_counter()
    while True:
        a @ b
        n += 1
        if n % 4 == 0:
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return 2.0 * rows * hidden * intermediate * n / elapsed


def attention_flops(lengths: list[int], hidden: int, layers: int, passes: float) -> float:
    """QK^T and AV over each example (padding-free: no cross-example attention), `passes` forward-equivalents:
    3 for training (backward twice the forward), 4 with activation recompute, 1 for evaluation."""
    return float(4 * hidden * layers * passes * sum(n * n for n in lengths))


def predict(flops: float, bound: float, device: str, attention: float = 0.0) -> dict[str, float]:
    efficiency = EFFICIENCY.get(device, EFFICIENCY["cpu"])
    attn_eff = ATTENTION_EFFICIENCY.get(device, ATTENTION_EFFICIENCY["cpu"])
    return {
        "bound_flops_per_s": bound,
        "efficiency": efficiency,
        "attention_efficiency": attn_eff,
        "seconds": flops / (bound * efficiency) + attention / (bound * attn_eff),
    }


def estimate(
    trainer,
    preset: dict,
    method: dict,
    hw: hardware.Hardware,
    train_rows: list[dict],
    val_rows: list[dict],
    seed: int,
    padding_free: bool,
) -> dict:
    """Tokens x FLOPs per token against this machine's measured matmul rate: the predicted time, logged
    before training starts (the module docstring says what is counted)."""
    tr = token_stats(trainer.train_dataset, train_rows)
    va = token_stats(trainer.eval_dataset, val_rows) if trainer.eval_dataset is not None else None
    batch = int(preset["batch_size"])
    steps = trainer.state.max_steps or _planned_steps(trainer)
    world = max(int(trainer.args.world_size), 1)
    epochs_seen = steps * batch * int(preset["grad_accum"]) * world / max(tr["examples"], 1)
    padded = tr["tokens"] if padding_free else padded_tokens(tr["lengths"], batch, True, seed)
    computed = round(padded * epochs_seen)
    real = round(tr["tokens"] * epochs_seen)
    learned = round(tr["completion_tokens"] * epochs_seen)
    counts = parameter_counts(trainer.model)
    flops = training_flops(
        counts, computed, learned, full=not method["peft"], recompute=bool(trainer.args.gradient_checkpointing)
    )
    n_evals = _planned_evals(trainer, steps)
    eval_tokens = (va["tokens"] if va else 0) * n_evals
    eval_f = eval_flops(counts, eval_tokens, (va["completion_tokens"] if va else 0) * n_evals)
    config = trainer.model.config
    bound = matmul_flops(
        int(getattr(config, "hidden_size", 512)),
        int(getattr(config, "intermediate_size", 2048)),
        min(max(padded // max(len(tr["lengths"]) // batch, 1), 256), 4096),
        hw.device,
        hw.dtype,
    )
    hidden, layers = int(getattr(config, "hidden_size", 512)), int(getattr(config, "num_hidden_layers", 1))
    # per example (padding-free); padded batches sorted by length attend over about as much
    attention = (
        attention_flops(tr["lengths"], hidden, layers, 3 + bool(trainer.args.gradient_checkpointing)) * epochs_seen
    )
    attention += attention_flops(va["lengths"], hidden, layers, 1) * n_evals if va else 0.0
    pred = predict(
        flops["executed"] + eval_f, bound * max(int(trainer.args.world_size), 1), hw.device, attention=attention
    )
    metrics = {
        "padding_free": padding_free,
        "train_tokens": real,  # real (non-pad) tokens over all steps
        "computed_tokens": computed,  # with padding: what the machine multiplies
        "completion_tokens": learned,  # the tokens the loss is on
        "tokens_per_example": tr["per_example"],
        "tokens_per_example_by_task": tr["per_example_by_task"],
        "prompt_share": round(tr["prompt_tokens"] / max(tr["tokens"], 1), 3),
        "val_tokens": eval_tokens,
        "flops": flops["executed"] + eval_f,
        "flops_train": flops["executed"],
        "flops_6nt": flops["six_nt"],  # the usual 3 x 2 x params x tokens, for comparison
        "flops_attention": attention,  # the L^2 products, at their own efficiency
        "params": {k: counts[k] for k in ("body", "head", "trainable")},
    }
    gpu_hours = pred["seconds"] / 3600 if hw.device == "cuda" else 0.0
    log.info(
        "train: estimate before training: %d steps, %d real tokens (%s per example, %.0f%% prompt), "
        "%.2e FLOPs; this %s multiplies at %.1f GFLOP/s (measured), a training step reaches ~%.0f%% of it "
        "-> ~%s (%.2f GPU-hours)",
        steps,
        real,
        tr["per_example"]["mean"],
        100 * metrics["prompt_share"],
        metrics["flops"],
        hw.device,
        bound / 1e9,
        100 * pred["efficiency"],
        duration(pred["seconds"]),
        gpu_hours,
    )
    return {"metrics": metrics, "predicted": pred, "steps": steps, "computed": computed, "real": real}


def _planned_steps(trainer) -> int:
    world = max(int(trainer.args.world_size), 1)
    loader_len = math.ceil(len(trainer.train_dataset) / (trainer.args.per_device_train_batch_size * world))
    per_epoch = max(loader_len // trainer.args.gradient_accumulation_steps, 1)
    if trainer.args.max_steps and trainer.args.max_steps > 0:
        return int(trainer.args.max_steps)
    return int(math.ceil(per_epoch * trainer.args.num_train_epochs))


def _planned_evals(trainer, steps: int) -> int:
    if trainer.eval_dataset is None or trainer.args.eval_strategy == "no":
        return 0
    if trainer.args.eval_strategy == "steps":
        return max(steps // int(trainer.args.eval_steps), 1)
    return max(int(math.ceil(trainer.args.num_train_epochs)), 1)


def actual(plan: dict, trainer, wall: float, resumed_from: int | None) -> dict:
    """The timed half: predicted vs actual seconds, tokens/s, FLOP/s against the bound, peak memory."""
    import resource

    pred = plan["predicted"]
    steps_run = trainer.state.global_step - (resumed_from or 0)
    share = steps_run / max(plan["steps"], 1)  # a resumed or early-stopped run did part of the plan
    predicted = pred["seconds"] * share
    flops_done = plan["metrics"]["flops"] * share
    real_tokens = getattr(trainer, "real_tokens", 0) or plan["real"] * share
    computed_tokens = getattr(trainer, "computed_tokens", 0) or plan["computed"] * share
    return {
        "estimate": {
            "seconds": round(predicted, 3),
            "error_pct": round(100 * (wall - predicted) / predicted, 1) if predicted else None,
            "bound_gflops": round(pred["bound_flops_per_s"] / 1e9, 1),
            "efficiency": pred["efficiency"],
            "attention_efficiency": pred["attention_efficiency"],
            "for_steps": steps_run,
        },
        "resumed_from_step": resumed_from,
        "steps_run": steps_run,
        "s_per_step": round(wall / max(steps_run, 1), 2),
        "real_tokens_per_s": round(real_tokens / wall, 1) if wall else None,
        "computed_tokens_per_s": round(computed_tokens / wall, 1) if wall else None,
        "achieved_gflops": round(flops_done / wall / 1e9, 2) if wall else None,
        "fraction_of_bound": round(flops_done / wall / pred["bound_flops_per_s"], 3) if wall else None,
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
