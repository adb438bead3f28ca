"""Stage `train`: TRL SFTTrainer + PEFT (LoRA/DoRA/QLoRA) on the frozen base, or full fine-tuning.

    tuneloop train       # models/base + data/splits -> models/adapter, metrics/train.json, plots/train_loss.json

Examples are prompt/completion chat messages, so TRL applies the base's chat template and computes
the loss on the completion (the assistant turn) only. "auto" hyperparameters resolve as documented
in conf/preset/balanced.yaml; the resolved values are written to metrics/train.json.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tuneloop import hardware, paths
from tuneloop.io import read_json, record_timing, write_json
from tuneloop.params import resolve_training
from tuneloop.progress import duration
from tuneloop.train import checkpoints, compute, launch, packing
from tuneloop.train.lengths import fit_rows
from tuneloop.train.rows import load_split, to_dataset

log = logging.getLogger(__name__)

BASE_DIR = paths.BASE_DIR
SPLIT_DIR = paths.SPLIT_DIR
ADAPTER_DIR = paths.ADAPTER_DIR
METRICS_FILE = paths.TRAIN_METRICS
LOSS_PLOT = paths.LOSS_PLOT
# The code a checkpoint belongs to: a change here starts a new checkpoint folder rather than resuming.
CODE_FILES = [Path(__file__).parent / f for f in ("sft.py", "lengths.py", "packing.py", "callbacks.py", "launch.py")]
CODE_FILES.append(Path(__file__).parents[1] / "hardware.py")


class TrainError(RuntimeError):
    pass


def build_model(
    base_dir: Path, method: dict, preset: dict, hw: hardware.Hardware, seed: int, attn_implementation: str | None = None
):
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": hw.dtype}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if method["load_in_4bit"]:
        if hw.device != "cuda":
            raise TrainError(
                f"method={method['name']} loads the base in 4 bit (bitsandbytes), which needs CUDA; "
                "use method=lora on this machine"
            )
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=hw.dtype,
        )
    model = AutoModelForCausalLM.from_pretrained(base_dir, **kwargs)
    if not method["peft"]:
        return model, None
    from peft import LoraConfig

    torch.manual_seed(seed)  # LoRA A-matrix init
    peft_config = LoraConfig(
        r=int(preset["lora_rank"]),
        lora_alpha=int(preset["lora_alpha"]),
        lora_dropout=float(method["lora_dropout"]),
        target_modules=method["target_modules"],
        use_dora=bool(method["use_dora"]),
        task_type="CAUSAL_LM",
    )
    return model, peft_config


def run(
    params: dict[str, Any],
    base_dir: str | Path = BASE_DIR,
    split_dir: str | Path = SPLIT_DIR,
    out_dir: str | Path = ADAPTER_DIR,
    metrics_file: str | Path = METRICS_FILE,
    loss_plot: str | Path = LOSS_PLOT,
    checkpoint_root: str | Path = checkpoints.ROOT,
    callbacks: list | None = None,
) -> dict:
    """Train; resume from the last checkpoint of an interrupted run with the same inputs (train/checkpoints.py).
    With conf/accelerate's num_processes > 1, re-run under `accelerate launch` (train/launch.py)."""
    from transformers import AutoTokenizer, set_seed

    seed = int(params["seed"])
    method, preset = params["method"], resolve_training(params)
    base_dir, split_dir, out_dir = Path(base_dir), Path(split_dir), Path(out_dir)
    hw = hardware.detect()
    if launch.needed(params):
        launch.relaunch(
            params,
            {
                "base_dir": base_dir,
                "split_dir": split_dir,
                "out_dir": out_dir,
                "metrics_file": Path(metrics_file),
                "loss_plot": Path(loss_plot),
                "checkpoint_root": Path(checkpoint_root),
            },
            cuda=hw.device == "cuda",
        )
        return read_json(metrics_file)
    main = launch.is_main()  # rank 0 writes the outputs (always, in one process)
    set_seed(seed)
    report_to = _configure_logger(params.get("logger") or {"name": "none"})

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    max_length = int(preset["max_length"])
    train_rows = load_split(split_dir / "train.jsonl", preset.get("max_train_examples"), seed)
    if not train_rows:
        raise TrainError(
            f"{split_dir / 'train.jsonl'} has no examples (or the preset's max_train_examples caps every "
            "task at 0): nothing to train on; see reports/data/build.md and reports/data/split.json"
        )
    before = Counter(r.get("task", "?") for r in train_rows)
    train_rows, fit = fit_rows(train_rows, tokenizer, max_length)
    after = Counter(r.get("task", "?") for r in train_rows)
    lost = {task: n for task, n in sorted(before.items()) if not after.get(task)}
    if lost and train_rows:  # a whole task gone would train (and gate) an adapter that never saw it
        raise TrainError(
            "every example of "
            + ", ".join(f"`{t}` ({n})" for t, n in lost.items())
            + f" is longer than preset.max_length={max_length} tokens even with its prompt cut: raise it, e.g. "
            f"`dvc exp run -S preset.max_length={2 * max_length}` (reports/data/build.md gives the tokens per task)"
        )
    if not train_rows:
        raise TrainError(
            f"no training example fits preset.max_length={max_length}: every completion alone is longer "
            f"({fit['dropped_completion_too_long']} dropped); raise it, e.g. "
            f"`dvc exp run -S preset.max_length={2 * max_length}`"
        )
    val_rows, val_fit = fit_rows(
        load_split(split_dir / "val.jsonl", preset.get("max_val_examples"), seed), tokenizer, max_length
    )
    train_ds, val_ds = to_dataset(train_rows), to_dataset(val_rows)
    padding_free = bool(preset.get("padding_free"))
    if padding_free:
        packing.register()
    model, peft_config = build_model(
        base_dir, method, preset, hw, seed, attn_implementation=packing.ATTENTION if padding_free else None
    )

    key_params = {k: params.get(k) for k in ("seed", "method", "logger", "accelerate")}
    key_params |= {"preset": preset, "model": params["model"]["name"], "labels": params.get("data", {}).get("labels")}
    key, key_inputs = checkpoints.run_key(
        key_params,
        [split_dir / "train.jsonl", split_dir / "val.jsonl"],
        base_dir,
        CODE_FILES,
        f"{hw.device}/{hw.precision}",
    )
    ckpt_dir = (
        checkpoints.prepare(key, key_inputs, Path(checkpoint_root))
        if main
        else checkpoints.run_dir(key, Path(checkpoint_root))
    )
    resume = checkpoints.last_checkpoint(ckpt_dir, clean=main)
    config = _sft_config(
        preset,
        method,
        hw,
        seed,
        ckpt_dir,
        report_to,
        has_val=len(val_ds) > 0,
        run_name=f"{params['model']['name']}-{method['name']}-{preset['name']}",
    )
    trainer = _trainer_class()(
        model=model,
        args=config,
        train_dataset=train_ds,
        eval_dataset=val_ds if len(val_ds) else None,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    try:
        trainer.weight_exponent = packing.weight_exponent(preset.get("loss_weighting"))
    except ValueError as exc:
        raise TrainError(f"preset.{exc} (conf/preset/{preset.get('name')}.yaml)") from None
    if trainer.weight_exponent is not None:
        trainer.loss_is_scaled_for_ga = False  # an example mean is not normalised by the step's tokens
    _use_progress_lines(trainer, callbacks or [], preset)
    _check_completions(trainer.train_dataset, max_length)
    trainable, total = _count_parameters(trainer.model)
    log.info(
        "train: %d examples (%d with the prompt cut to fit %d tokens, %d dropped: completion too long), "
        "%s/%s, %s on %s, %.2f%% of %d params trainable",
        len(train_ds),
        fit["prompt_cut"],
        max_length,
        fit["dropped_completion_too_long"],
        method["name"],
        preset["name"],
        hw.precision,
        hw.device,
        100 * trainable / total,
        total,
    )
    plan = compute.estimate(trainer, preset, method, hw, train_rows, val_rows, seed, padding_free)

    if resume is not None:
        log.info("train: resuming from %s (an earlier run with the same inputs was interrupted)", resume)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume is not None else None)
    wall = time.perf_counter() - start
    evals = [
        {"step": h["step"], "loss": round(h["eval_loss"], 6)} for h in trainer.state.log_history if "eval_loss" in h
    ]
    # the adapter saved is the best validation's when early stopping is on (load_best_model_at_end)
    eval_loss = (
        trainer.state.best_metric if preset.get("early_stopping_patience") else (evals[-1]["loss"] if evals else None)
    )

    tmp_out = out_dir.with_name(out_dir.name + ".partial")
    if main:
        shutil.rmtree(tmp_out, ignore_errors=True)
    if padding_free and not method["peft"]:
        trainer.model.set_attn_implementation("sdpa")  # a full model's config must not name our training kernel
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(tmp_out))  # every rank: FSDP/ZeRO-3 gather the weights; rank 0 writes
    trainer.accelerator.wait_for_everyone()
    if not main:
        return {}
    _sort_target_modules(tmp_out / "adapter_config.json")
    # Trainer pickles its arguments beside the weights; they hold the checkpoint path, which moves with
    # the code's hash, so the adapter's md5 (and evaluate) would change with no change to the weights.
    (tmp_out / "training_args.bin").unlink(missing_ok=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp_out.rename(out_dir)
    checkpoints.finish(ckpt_dir)

    history = trainer.state.log_history
    curve = [{"step": h["step"], "loss": round(h["loss"], 6)} for h in history if "loss" in h]
    write_json(loss_plot, curve)
    stopped_early = trainer.state.global_step < trainer.state.max_steps
    metrics = {
        "train_loss": round(result.training_loss, 6),
        "first_logged_loss": curve[0]["loss"] if curve else None,
        "last_logged_loss": curve[-1]["loss"] if curve else None,
        "eval_loss": round(eval_loss, 6) if eval_loss is not None and math.isfinite(eval_loss) else None,
        "steps": trainer.state.global_step,
        "planned_steps": trainer.state.max_steps,
        "stopped_early": stopped_early,
        "best_step": _best_step(trainer.state) if stopped_early or preset.get("early_stopping_patience") else None,
        "eval_curve": evals,
        "epochs": round(trainer.state.epoch or 0, 4),
        "train_examples": len(train_ds),
        "train_examples_by_task": dict(sorted(Counter(r["task"] for r in train_rows).items())),
        "val_examples": len(val_ds),
        "truncated_examples": fit["prompt_cut"],  # prompt cut to fit max_length; completions are never cut
        "dropped_too_long": fit["dropped_completion_too_long"] + val_fit["dropped_completion_too_long"],
        "length_fit": {"train": fit, "val": val_fit},
        "trainable_params": trainable,
        "total_params": total,
        "device": hw.device,
        "precision": hw.precision,
        "compute": plan["metrics"],  # tokens and FLOPs: deterministic; the timed estimate is in reports/timing.json
        "hyperparameters": {k: preset[k] for k in sorted(preset)},
    }
    write_json(metrics_file, metrics)
    timing = compute.actual(plan, trainer, wall, resumed_from=trainer_step(resume))
    record_timing("train", wall_seconds=round(wall, 1), device=hw.device, hardware=hw.name, **timing)
    error = timing["estimate"]["error_pct"]
    log.info(
        "train: loss %.4f -> %.4f in %d steps, %s (estimated %s, error %s), %.0f real tokens/s, "
        "peak RSS %.1f GiB; adapter in %s",
        metrics["first_logged_loss"] or 0,
        metrics["last_logged_loss"] or 0,
        metrics["steps"],
        duration(wall),
        duration(timing["estimate"]["seconds"]),
        f"{error:+.0f}%" if error is not None else "n/a",
        timing["real_tokens_per_s"] or 0,
        timing["peak_rss_gib"],
        out_dir,
    )
    return metrics


def trainer_step(checkpoint: Path | None) -> int | None:
    return int(checkpoint.name.removeprefix(checkpoints.PREFIX)) if checkpoint is not None else None


def _sft_config(
    preset: dict,
    method: dict,
    hw: hardware.Hardware,
    seed: int,
    output_dir: Path,
    report_to: str,
    has_val: bool,
    run_name: str,
):
    from trl import SFTConfig

    save_steps = int(preset.get("save_steps") or 0)
    patience = preset.get("early_stopping_patience")
    eval_strategy = "epoch" if has_val else "no"
    extra: dict[str, Any] = {}
    if patience:
        if not has_val:
            raise TrainError(
                "preset.early_stopping_patience needs validation examples (preset.max_val_examples, data.split.val)"
            )
        save_steps = save_steps or 10
        eval_strategy = "steps"
        extra = {
            "eval_steps": save_steps,
            "load_best_model_at_end": True,
            "metric_for_best_model": "eval_loss",
            "greater_is_better": False,
        }
    padding_free = bool(preset.get("padding_free"))
    return SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=float(preset["epochs"]),
        max_steps=int(preset["max_steps"]),
        per_device_train_batch_size=int(preset["batch_size"]),
        per_device_eval_batch_size=int(preset["batch_size"]),
        gradient_accumulation_steps=int(preset["grad_accum"]),
        learning_rate=float(preset["learning_rate"]),
        warmup_steps=float(preset["warmup"]),  # a float < 1 is a fraction of the optimizer steps
        weight_decay=float(preset["weight_decay"]),
        lr_scheduler_type=preset["lr_scheduler"],
        # padding-free batches are not truncated by TRL: fit_rows already cut every example to max_length
        max_length=None if padding_free else int(preset["max_length"]),
        padding_free=padding_free,
        logging_steps=int(preset["logging_steps"]),
        eval_strategy=eval_strategy,
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500,
        save_total_limit=1,  # the last checkpoint is all a resume needs (+ the best one with early stopping)
        bf16=hw.precision == "bf16",
        fp16=hw.precision == "fp16",
        use_cpu=hw.device == "cpu",
        gradient_checkpointing=compute.use_checkpointing(preset, hw),
        seed=seed,
        data_seed=seed,
        report_to=report_to,
        run_name=run_name,
        dataloader_num_workers=0,
        # batches of similar length: on CPU every padded token costs as much as a real one
        train_sampling_strategy="group_by_length" if preset.get("group_by_length", True) else "random",
        disable_tqdm=True,
        **extra,
    )


def _trainer_class():
    """SFTTrainer whose loss projects only the label positions through the LM head (train/packing.py)
    and which counts the tokens it trains on (real and computed, i.e. with padding)."""
    from trl import SFTTrainer

    class Trainer(SFTTrainer):
        real_tokens = 0
        computed_tokens = 0

        weight_exponent: float | None = None  # preset.loss_weighting's (sqrt, example); None: token average

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss, _ = packing.completion_loss(
                model,
                inputs,
                num_items_in_batch,
                self.accelerator.num_processes,
                self.args.average_tokens_across_devices,
                self.weight_exponent,
            )
            if model.training:
                ids = inputs["input_ids"]
                mask = inputs.get("attention_mask")
                self.real_tokens += int(mask.sum()) if mask is not None else ids.numel()
                self.computed_tokens += ids.numel()
            return (loss, {"loss": loss}) if return_outputs else loss

    return Trainer


def _use_progress_lines(trainer, extra: list, preset: dict) -> None:
    from transformers import EarlyStoppingCallback, PrinterCallback

    from tuneloop.train.callbacks import ProgressCallback

    trainer.remove_callback(PrinterCallback)  # a raw dict per log; ProgressCallback says step/total, ETA
    trainer.add_callback(ProgressCallback())
    if preset.get("early_stopping_patience"):
        trainer.add_callback(
            EarlyStoppingCallback(
                early_stopping_patience=int(preset["early_stopping_patience"]),
                early_stopping_threshold=float(preset.get("early_stopping_threshold") or 0.0),
            )
        )
    for cb in extra:
        trainer.add_callback(cb)


def _best_step(state) -> int | None:
    best = state.best_model_checkpoint
    return trainer_step(Path(best)) if best else None


def _check_completions(dataset, max_length: int) -> None:
    """After TRL's tokenization: every example within max_length and with its completion (fit_rows made it so)."""
    for i, (ids, labels) in enumerate(zip(dataset["input_ids"], dataset["labels"])):
        learned = sum(1 for t in labels if t != -100)
        if len(ids) > max_length or not learned:
            raise TrainError(
                f"training example {i} has {len(ids)} tokens and {learned} completion tokens after "
                f"tokenization (max_length {max_length}): the prompt fitting in train/lengths.py and "
                "TRL's tokenization disagree; please report it with reports/data/build.json"
            )


def _sort_target_modules(config_file: Path) -> None:
    """PEFT writes target_modules in set order, which varies with PYTHONHASHSEED; sort it so the
    same run gives a byte-identical adapter folder (and the same md5 in dvc.lock)."""
    if not config_file.exists():
        return  # full fine-tuning: no adapter config
    config = json.loads(config_file.read_text())
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
        config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def _count_parameters(model) -> tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def _configure_logger(logger: dict) -> str:
    if logger.get("name") != "wandb":
        return "none"
    try:
        import wandb  # noqa: F401
    except ImportError as exc:
        raise TrainError("logger=wandb needs the wandb extra: pip install 'tuneloop[wandb]'") from exc
    # Offline unless the environment says otherwise; the API key only ever comes from the environment.
    os.environ.setdefault("WANDB_MODE", logger.get("mode") or "offline")
    os.environ.setdefault("WANDB_PROJECT", logger.get("project") or "tuneloop")
    os.environ.setdefault("WANDB_SILENT", "true")
    return "wandb"


if __name__ == "__main__":  # what train/launch.py runs in each process of `accelerate launch`
    import argparse

    from tuneloop.params import load_params

    ap = argparse.ArgumentParser(description="the train stage in one process of `accelerate launch`")
    ap.add_argument("--params", required=True)
    for name in ("base-dir", "split-dir", "out-dir", "metrics-file", "loss-plot", "checkpoint-root"):
        ap.add_argument(f"--{name}", required=True)
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    run(load_params(a.params), a.base_dir, a.split_dir, a.out_dir, a.metrics_file, a.loss_plot, a.checkpoint_root)
