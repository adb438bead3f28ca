"""Stage `evaluate`: score the base (pre) and base+adapter (post) with lm-eval, same tasks, same split.

    tuneloop evaluate    # -> metrics/eval.json (per task and metric: pre, post, delta, stderr), reports/samples.jsonl

The tasks live in evals/tasks (lm-eval YAML + utils.py); the same files run from the lm-eval CLI:
    lm_eval --model hf --model_args pretrained=models/base,peft=models/adapter \
      --include_path evals/tasks --tasks tuneloop_classify,tuneloop_reply --apply_chat_template
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from tuneloop import hardware
from tuneloop.io import record_timing, write_json, write_jsonl

log = logging.getLogger(__name__)

TASK_DIR = Path("evals/tasks")
BASE_DIR = Path("models/base")
ADAPTER_DIR = Path("models/adapter")
METRICS_FILE = Path("metrics/eval.json")
SAMPLES_FILE = Path("reports/samples.jsonl")
EXCLUDED_METRICS = {"alias", "sample_len"}


def score_model(name: str, base_dir: Path, adapter_dir: Path | None, params: dict[str, Any],
                task_dir: Path = TASK_DIR) -> tuple[dict, list[dict]]:
    """Run every eval task on one model; return ({task: {metric: value, metric_stderr: ...}}, samples)."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    ev, seed, hw = params["eval"], int(params["seed"]), hardware.detect()
    full_model = adapter_dir is not None and not params["method"]["peft"]
    lm = HFLM(pretrained=str(adapter_dir if full_model else base_dir),
              peft=str(adapter_dir) if adapter_dir is not None and not full_model else None,
              dtype=hw.precision.replace("fp", "float").replace("bf16", "bfloat16"),
              device=hw.device, batch_size=int(ev["batch_size"]))
    task_manager = TaskManager(include_path=str(task_dir))
    scores, samples = {}, []
    for task in ev["tasks"]:
        start = time.perf_counter()
        out = lm_eval.simple_evaluate(
            model=lm, tasks=[task], task_manager=task_manager, limit=(ev.get("limit") or {}).get(task),
            apply_chat_template=bool(ev["apply_chat_template"]), system_instruction=params["data"]["system_prompt"],
            gen_kwargs={"max_gen_toks": int(ev["max_gen_toks"][task])}, bootstrap_iters=int(ev.get("bootstrap_iters", 1000)),
            log_samples=True, random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed,
            fewshot_random_seed=seed, verbosity="WARNING")
        result = out["results"][task]
        scores[task] = {k.split(",")[0]: v for k, v in result.items()
                        if k.split(",")[0] not in EXCLUDED_METRICS and isinstance(v, (int, float))}
        scores[task]["n"] = len(out["samples"][task])
        samples += [_sample(name, task, s) for s in out["samples"][task]]
        log.info("evaluate %s %s: %s (%.0f s)", name, task, scores[task], time.perf_counter() - start)
    return scores, samples


def _sample(model: str, task: str, s: dict) -> dict:
    doc = s["doc"]
    resps = s.get("filtered_resps") or s.get("resps")
    output = resps[0] if isinstance(resps[0], str) else resps[0][0]
    metrics = {k: v for k, v in s.items() if k in ("acc", "rougeL")}
    return {"id": doc["id"], "task": task, "model": model, "target": doc["answer"], "output": output, **metrics}


def compare(pre: dict, post: dict) -> dict:
    """{task: {metric: {pre, post, delta, pre_stderr, post_stderr}, n}} for metrics both runs have."""
    table = {}
    for task in post:
        table[task] = {"n": post[task]["n"]}
        for metric, value in post[task].items():
            if metric == "n" or metric.endswith("_stderr"):
                continue
            before = pre.get(task, {}).get(metric)
            table[task][metric] = {
                "pre": _round(before), "post": _round(value),
                "delta": _round(value - before) if before is not None else None,
                "pre_stderr": _round(pre.get(task, {}).get(f"{metric}_stderr")),
                "post_stderr": _round(post[task].get(f"{metric}_stderr")),
            }
    return table


def _round(x):
    return round(float(x), 6) if isinstance(x, (int, float)) and x == x else None  # NaN/"N/A" -> None


def run(params: dict[str, Any], base_dir: str | Path = BASE_DIR, adapter_dir: str | Path = ADAPTER_DIR,
        metrics_file: str | Path = METRICS_FILE, samples_file: str | Path = SAMPLES_FILE,
        task_dir: str | Path = TASK_DIR) -> dict:
    # Everything is local: never let lm-eval or datasets reach for the hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    start = time.perf_counter()
    pre, pre_samples = score_model("base", Path(base_dir), None, params, Path(task_dir))
    post, post_samples = score_model("candidate", Path(base_dir), Path(adapter_dir), params, Path(task_dir))
    table = compare(pre, post)
    write_json(metrics_file, table)
    record_timing("evaluate", wall_seconds=round(time.perf_counter() - start, 1))
    write_jsonl(samples_file, pre_samples + post_samples)
    return table
