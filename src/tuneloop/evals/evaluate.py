"""Stage `evaluate`: one lm-eval harness scores base (pre), champion and candidate (post) on three layers.

    tuneloop evaluate    # -> metrics/eval.json, reports/samples.jsonl, reports/flips.json

Layers (conf/eval `layers`, tasks in evals/tasks as lm-eval YAML + utils.py):
  tasks       task evals on the held-out test split (classification, reply, summary, KB QA)
  regression  the frozen suite in evals/regression (refuses to run if it changed without `tuneloop suite freeze`)
  probes      behavioural probes in evals/probes (refusal, format, PII leakage, escalation)
The champion is the adapter on `main`; CI fetches it into models/champion (docs/ci.md). Without it, the
champion column is empty and non-inferiority rules do not apply. For each metric, metrics/eval.json holds
pre / champion / post, lm-eval's stderr, and paired-bootstrap confidence bounds of post - pre and of
post - champion (the gate's non-inferiority test). Any planted canary in any output is counted as a leak;
every answer of every model is checked for degeneration (loops, gibberish: evals/degeneration.py).
Each task also runs alone from the lm-eval CLI:
    lm_eval --model hf --model_args pretrained=models/base,peft=models/adapter \
      --include_path evals/tasks --tasks tuneloop_classify --apply_chat_template
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from tuneloop import hardware, paths, prompts
from tuneloop.data.synth import label_answer_tokens
from tuneloop.evals import base_cache, degeneration, general, history_items, routed, suite
from tuneloop.evals.critical import critical_flips, critical_items, excerpt, sampled
from tuneloop.evals.stats import paired_bootstrap
from tuneloop.io import read_jsonl, record_timing, write_json, write_jsonl
from tuneloop.progress import TaskProgress

log = logging.getLogger(__name__)

TASK_DIR = paths.TASK_DIR
BASE_DIR = paths.BASE_DIR
ADAPTER_DIR = paths.ADAPTER_DIR
CHAMPION_DIR = paths.CHAMPION_DIR
TEST_FILE = paths.TEST_SPLIT
METRICS_FILE = paths.EVAL_METRICS
SAMPLES_FILE = paths.SAMPLES_FILE
FLIPS_FILE = paths.FLIPS_FILE
# Test-split tasks read the examples of one build task, regression tasks the cases of one kind; each is
# skipped (and listed under "skipped") when there are none.
SPLIT_TASK, REGRESSION_KIND = suite.SPLIT_TASK, suite.REGRESSION_KIND
INDEX_ENV = "TUNELOOP_INDEX_DIR"  # the help-center index lm-eval's hooks retrieve from (tuneloop.retrieval)
# The per-item pass/fail used for "flipped" items (continuous metrics such as ROUGE-L have none).
BINARY_METRIC = ("acc", "fact_match", "pass", "history_fact")


def planned_tasks(
    params: dict[str, Any],
    test_file: Path = TEST_FILE,
    regression_file: Path = suite.REGRESSION_FILE,
    sealed_file: Path = paths.SEALED_SPLIT,
) -> tuple[dict[str, dict], dict[str, str]]:
    """({task: settings + layer} to run, {task: why skipped})."""
    held_out = read_jsonl(test_file) if test_file.exists() else []
    in_suite = suite.case_sources(regression_file)
    in_split: set[str] = {e["task"] for e in held_out}
    # the task eval scores what the regression suite did not take (disjoint layers): it may take all of a task
    left: set[str] = {e["task"] for e in held_out if str(e["id"]) not in in_suite}
    kinds = suite.regression_kinds(regression_file)
    left_out = (params.get("preset") or {}).get("left_out") or {}  # {build task: why the preset leaves it out}
    run, skipped = {}, {}
    for layer, tasks in params["eval"]["layers"].items():
        for task, settings in (tasks or {}).items():
            needs, kind = SPLIT_TASK.get(task), REGRESSION_KIND.get(task)
            if layer == "tasks" and needs in left_out:
                skipped[task] = (
                    f"left out of training and evaluation by preset {params['preset']['name']}: {left_out[needs]}"
                )
            elif layer == "tasks" and needs and needs not in in_split:
                skipped[task] = f"no `{needs}` examples in the test split (data.tasks)"
            elif layer == "tasks" and needs and needs not in left:
                skipped[task] = (
                    f"every held-out `{needs}` example is in the regression suite ({Path(regression_file).as_posix()}"
                    "): the regression layer scores them"
                )
            elif layer == "sealed" and not Path(sealed_file).exists():
                skipped[task] = (
                    f"no sealed holdout here ({Path(sealed_file).as_posix()}): only the referee builds and scores it "
                    "(docs/sealed.md)"
                )
            elif layer == "regression" and kind and kind not in kinds:
                skipped[task] = f"no `{kind}` cases in {Path(regression_file).as_posix()} (tuneloop suite init)"
            else:
                run[task] = {**settings, "layer": layer}
    history_items.plan(run, skipped, held_out, in_suite)  # the returning-customer tasks: items with history facts
    return run, skipped


def _ids(test_file: Path) -> set[str]:
    return {str(e["id"]) for e in read_jsonl(test_file)} if test_file.exists() else set()


def resolve_generation_caps(tasks: dict[str, dict], params: dict[str, Any], base_dir: Path) -> dict[str, dict]:
    """`max_gen_toks: auto` (the label tasks) -> the longest label in the base's tokens + a margin, so a
    whole label always fits: the same cap the monitor's scorer uses (synth.label_answer_tokens)."""
    if not any(s.get("max_gen_toks") == "auto" for s in tasks.values()):
        return tasks
    from transformers import AutoTokenizer

    data = params["data"]
    labels = list(data["labels"]) + ([data["out_of_scope_label"]] if data.get("out_of_scope_label") else [])
    cap = label_answer_tokens(AutoTokenizer.from_pretrained(base_dir), labels)
    return {
        t: {**s, "max_gen_toks": cap if s.get("max_gen_toks") == "auto" else s["max_gen_toks"]}
        for t, s in tasks.items()
    }


def load_lm(base_dir: Path, adapter_dir: Path | None, batch_size: int, backend: dict | str = "hf"):
    """lm-eval's model for the base, base + PEFT adapter, or a fully fine-tuned model folder: HF (the CPU
    default) or, with `eval.backend: vllm` on a GPU runner, vLLM with the adapter as a LoRA request."""
    full_model = paths.is_full_model(adapter_dir)
    name = backend if isinstance(backend, str) else backend.get("name", "hf")
    if name == "vllm":
        vllm_settings = {} if isinstance(backend, str) else backend
        return vllm_lm(adapter_dir if full_model else base_dir, None if full_model else adapter_dir, vllm_settings)
    if name != "hf":
        raise ValueError(f"eval.backend: unknown backend {name!r} (hf | vllm)")
    from lm_eval.models.huggingface import HFLM

    hw = hardware.detect()
    return HFLM(
        pretrained=str(adapter_dir if full_model else base_dir),
        peft=str(adapter_dir) if adapter_dir is not None and not full_model else None,
        dtype=hw.precision.replace("fp", "float").replace("bf16", "bfloat16"),
        device=hw.device,
        batch_size=batch_size,
    )


# One vLLM engine per weights folder for the whole evaluate run: an engine holds its share of the GPU until
# the process ends, so base, champion and candidate share one and differ only in the LoRA request.
_VLLM_ENGINES: dict[str, Any] = {}
_LORA_IDS: dict[str, int] = {}


def vllm_lm(model_dir: Path, adapter_dir: Path | None, settings: dict):
    import importlib.util

    if hardware.detect().device != "cuda" or importlib.util.find_spec("vllm") is None:
        raise RuntimeError(
            "eval.backend.name=vllm needs a CUDA GPU and `pip install vllm==0.33.0` (docs/eval-harness.md); "
            "the CPU default is eval.backend.name=hf"
        )
    from lm_eval.models.vllm_causallms import VLLM
    from vllm.lora.request import LoRARequest

    key = str(model_dir.resolve())
    if key not in _VLLM_ENGINES:
        _VLLM_ENGINES[key] = VLLM(
            pretrained=key,
            dtype="auto",
            batch_size="auto",
            seed=int(settings.get("seed", 0)),
            max_model_len=int(settings.get("max_model_len", 2048)),
            gpu_memory_utilization=float(settings.get("gpu_memory_utilization", 0.8)),
            enable_lora=True,
            max_lora_rank=int(settings.get("max_lora_rank", 64)),
            max_loras=2,
        )
    lm = _VLLM_ENGINES[key]
    if adapter_dir is None:
        lm.lora_request = None
    else:
        path = str(adapter_dir.resolve())
        _LORA_IDS.setdefault(path, len(_LORA_IDS) + 1)  # vLLM caches an adapter by id: one id per folder
        lm.lora_request = LoRARequest(f"tuneloop-{_LORA_IDS[path]}", _LORA_IDS[path], path)
    return lm


def backend(params: dict[str, Any]) -> dict:
    """conf/eval `backend` with the run's seed (a missing key is the HF default)."""
    return {"name": "hf", **(params["eval"].get("backend") or {}), "seed": int(params["seed"])}


def score_model(
    name: str,
    base_dir: Path,
    adapter_dir: Path | None,
    params: dict[str, Any],
    tasks: dict[str, dict],
    task_dir: Path = TASK_DIR,
    progress: TaskProgress | None = None,
) -> tuple[dict, list[dict], dict[str, float]]:
    """Run every task on one model: ({task: {metric: value, metric_stderr: ..., n}}, per-item samples,
    {task: wall seconds})."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    # the prompt contract (tuneloop.prompts): evals/tasks/utils.py renders the frozen suite's prompts with it
    os.environ[prompts.ENV] = prompts.Contract.from_params(params).to_json()
    os.environ.setdefault(INDEX_ENV, str(paths.INDEX_DIR))  # ... and retrieves passages from this index
    ev, seed = params["eval"], int(params["seed"])
    lm = load_lm(base_dir, adapter_dir, int(ev["batch_size"]), backend(params))
    task_manager = TaskManager(include_path=str(task_dir))
    scores, samples, seconds = {}, [], {}
    for task, settings in tasks.items():
        start = time.perf_counter()
        limit, picked = sampled(task, settings.get("limit"))
        out = lm_eval.simple_evaluate(
            model=lm,
            tasks=[task],
            task_manager=task_manager,
            limit=limit,
            samples=picked,
            apply_chat_template=bool(ev["apply_chat_template"]),
            system_instruction=params["data"]["system_prompt"],
            gen_kwargs={"max_gen_toks": int(settings["max_gen_toks"])},
            bootstrap_iters=int(ev["bootstrap_iters"]),
            log_samples=True,
            random_seed=seed,
            numpy_random_seed=seed,
            torch_random_seed=seed,
            fewshot_random_seed=seed,
            verbosity="WARNING",
        )
        metric_names = [m["metric"] for m in out["configs"][task]["metric_list"]]
        result = out["results"][task]
        scores[task] = {
            k.split(",")[0]: v
            for k, v in result.items()
            if k.split(",")[0].removesuffix("_stderr") in metric_names and isinstance(v, (int, float))
        }
        scores[task]["n"] = len(out["samples"][task])
        samples += [_sample(name, task, s, metric_names) for s in out["samples"][task]]
        seconds[task] = round(time.perf_counter() - start, 1)
        where = f"[{progress.done(task, seconds[task])}] " if progress is not None else ""
        log.info(
            "evaluate: %s%s %s: %s (%.0f s)",
            where,
            name,
            task,
            {k: round(v, 3) for k, v in scores[task].items()},
            seconds[task],
        )
    return scores, samples, seconds


def _sample(model: str, task: str, s: dict, metric_names: list[str]) -> dict:
    doc = s["doc"]
    resps = s.get("filtered_resps") or s.get("resps")
    output = resps[0] if isinstance(resps[0], str) else resps[0][0]
    values = {m: (list(s[m]) if isinstance(s[m], (tuple, list)) else s[m]) for m in metric_names if m in s}
    return {
        "id": doc.get("id"),
        "task": task,
        "model": model,
        "input": doc.get("user") or doc.get("prompt"),
        "target": doc.get("answer") or doc.get("label"),
        "output": output,
        **values,
    }


def _aggregate(metric: str):
    from tuneloop.evals import metrics

    if metric in ("macro_f1", "in_scope_acc", "oos_recall"):
        fn = getattr(metrics, metric)
        return lambda units: fn([tuple(u) for u in units])
    return None  # a mean


def compare(scores: dict[str, dict], samples: list[dict], params: dict[str, Any]) -> dict:
    """{task: {n, metric: {pre, champion, post, *_stderr, delta, delta_lower/upper, vs_champion...}}}."""
    iters, seed = int(params["eval"]["bootstrap_iters"]), int(params["seed"])
    items: dict[tuple[str, str], dict[str, dict]] = {}
    for s in samples:
        items.setdefault((s["task"], s["model"]), {})[s["id"]] = s
    table: dict[str, Any] = {}
    for task, post in scores["candidate"].items():
        table[task] = {"n": post["n"]}
        for metric in (k for k in post if k != "n" and not k.endswith("_stderr")):
            entry = {}
            for model, key in (("base", "pre"), ("champion", "champion"), ("candidate", "post")):
                value = scores.get(model, {}).get(task, {}).get(metric)
                entry[key] = _round(value)
                entry[f"{key}_stderr"] = _round(scores.get(model, {}).get(task, {}).get(f"{metric}_stderr"))
            entry["delta"] = _round(entry["post"] - entry["pre"]) if entry["pre"] is not None else None
            cand = items.get((task, "candidate"), {})
            for other, prefix in (("base", "delta"), ("champion", "vs_champion")):
                ref = items.get((task, other))
                if not ref:
                    continue
                ids = sorted(set(cand) & set(ref), key=str)
                if not ids or any(metric not in cand[i] for i in ids):
                    continue  # a task-level figure (the routed tasks' critical share): no per-item values
                ci = paired_bootstrap(
                    [cand[i][metric] for i in ids],
                    [ref[i][metric] for i in ids],
                    iters=iters,
                    seed=seed,
                    aggregate=_aggregate(metric),
                )
                if prefix == "vs_champion":
                    entry["vs_champion"] = _round(ci["delta"])
                entry[f"{prefix}_lower"], entry[f"{prefix}_upper"] = _round(ci["lower"]), _round(ci["upper"])
            table[task][metric] = entry
    return table


def flipped_items(samples: list[dict], reference: str) -> dict[str, list[dict]]:
    """Items whose pass/fail changed between the reference model (champion, else base) and the candidate."""
    by_key = {(s["task"], s["id"], s["model"]): s for s in samples}
    flips: dict[str, list[dict]] = {"pass_to_fail": [], "fail_to_pass": []}
    for (task, item_id, model), cand in sorted(by_key.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2])):
        ref = by_key.get((task, item_id, reference))
        metric = next((m for m in BINARY_METRIC if m in cand), None)
        if model != "candidate" or ref is None or metric is None or ref[metric] == cand[metric]:
            continue
        flips["fail_to_pass" if cand[metric] else "pass_to_fail"].append(
            {
                "task": task,
                "id": item_id,
                "input": excerpt(cand["input"]),
                "target": excerpt(cand["target"]),
                reference: excerpt(ref["output"]),
                "candidate": excerpt(cand["output"]),
            }
        )
    return {"reference": reference, **flips}


SEALED_TEXT = "(sealed: not shown)"


def conceal(report: dict, hidden: set[str], fields: tuple[str, ...]) -> dict:
    """The sealed layer's items and answers never reach a report: what reports/gate.md, the PR comment and
    the referee's artifact show of them is the task, the verdict and this placeholder (the exam stays sealed)."""
    for rows in report.values():
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and row.get("task") in hidden:
                row.update({f: SEALED_TEXT for f in fields if f in row} | {"id": SEALED_TEXT})
    return report


def canary_leaks(samples: list[dict], canaries: list[str]) -> dict:
    """Count outputs, per model, that contain any planted canary value (the values are never written)."""
    leaks = {"canary": 0, "canary_by_model": {}}
    for s in samples:
        if any(c and c in (s["output"] or "") for c in canaries):
            leaks["canary_by_model"][s["model"]] = leaks["canary_by_model"].get(s["model"], 0) + 1
            if s["model"] == "candidate":
                leaks["canary"] += 1
    return leaks


def general_ability(
    params: dict[str, Any], models: dict[str, tuple[Path, Path | None]], task_dir: Path = TASK_DIR
) -> dict:
    """The forgetting budget: a slice of a public benchmark from a local, DVC-versioned file (evals/general.py),
    on a GPU, or on CPU too with eval.general.enabled=true; else a visible skip that says what is missing."""
    cfg, hw = params["eval"]["general"], hardware.detect()
    enabled = cfg["enabled"]
    if enabled == "auto":
        enabled = hw.device == "cuda"
    if not enabled:
        return {
            "skipped": f"general ability ({cfg['task']}) not run: {'no GPU' if hw.device != 'cuda' else 'disabled'};"
            f" `eval.general.enabled=true` runs it on CPU too (a {cfg['limit']}-item log-likelihood slice)"
        }
    why = general.available(cfg)
    if why:
        return {"skipped": f"general ability ({cfg['task']}) not run: {why}"}
    import lm_eval
    from lm_eval.tasks import TaskManager

    task_manager = TaskManager(include_path=str(task_dir))
    result: dict[str, Any] = {"task": cfg["task"], "limit": cfg["limit"]}
    for name, (base_dir, adapter_dir) in models.items():
        lm = load_lm(base_dir, adapter_dir, int(params["eval"]["batch_size"]), backend(params))
        out = lm_eval.simple_evaluate(
            model=lm,
            tasks=[cfg["task"]],
            task_manager=task_manager,
            limit=cfg["limit"],
            random_seed=int(params["seed"]),
            numpy_random_seed=int(params["seed"]),
            torch_random_seed=int(params["seed"]),
            verbosity="WARNING",
        )
        result[name] = out["results"][cfg["task"]][f"{cfg['metric']},none"]
    return {
        cfg["metric"]: {
            "pre": _round(result["base"]),
            "post": _round(result["candidate"]),
            "champion": _round(result.get("champion")),
            "delta": _round(result["candidate"] - result["base"]),
        },
        "n": cfg["limit"],
    }


def _round(x):
    return round(float(x), 6) if isinstance(x, (int, float)) and x == x else None  # NaN/"N/A" -> None


def run(
    params: dict[str, Any],
    base_dir: str | Path = BASE_DIR,
    adapter_dir: str | Path = ADAPTER_DIR,
    champion_dir: str | Path = CHAMPION_DIR,
    metrics_file: str | Path = METRICS_FILE,
    samples_file: str | Path = SAMPLES_FILE,
    flips_file: str | Path = FLIPS_FILE,
    task_dir: str | Path = TASK_DIR,
    test_file: str | Path = TEST_FILE,
    val_file: str | Path = paths.VAL_SPLIT,
    index_dir: str | Path = paths.INDEX_DIR,
) -> dict:
    suite.verify()  # a silently edited regression suite is no referee: refuse before spending compute
    # Everything is local: never let lm-eval or datasets reach for the hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ[INDEX_ENV] = str(Path(index_dir))  # the help-center index lm-eval's hooks retrieve from
    os.environ["TUNELOOP_CANARIES"] = json.dumps(list(params["eval"].get("canaries") or []))
    # task evals score the held-out items the regression suite was not drawn from (disjoint layers)
    in_suite = suite.case_sources(suite.REGRESSION_FILE) & _ids(Path(test_file))
    os.environ["TUNELOOP_SUITE_SOURCES"] = json.dumps(sorted(in_suite))
    start = time.perf_counter()
    tasks, skipped = planned_tasks(params, Path(test_file))
    tasks = resolve_generation_caps(tasks, params, Path(base_dir))
    models: dict[str, tuple[Path, Path | None]] = {"base": (Path(base_dir), None)}
    if (Path(champion_dir) / "adapter_config.json").exists() or (Path(champion_dir) / "config.json").exists():
        models["champion"] = (Path(base_dir), Path(champion_dir))
    models["candidate"] = (Path(base_dir), Path(adapter_dir))
    scores, samples, seconds, task_seconds = {}, [], {}, {}
    calibration: dict[str, Any] = {}
    route_tasks: dict[str, dict] = {}  # the router's tasks (not lm-eval's): reported with the layers
    cached = None
    progress = TaskProgress(list(tasks), len(models))
    log.info("evaluate: %d tasks x %d models (%s)", len(tasks), len(models), ", ".join(models))
    for name, (base, adapter) in models.items():
        t0 = time.perf_counter()
        if name == "base" and base_cache.cache_dir() is not None:  # an unchanged base is scored once
            key, inputs = base_cache.cache_key(params, base, tasks, Path(task_dir), Path(test_file))
            cached = base_cache.load(key)
            if cached is not None:
                log.info("evaluate base: scores from the cache (%s, key %s)", base_cache.cache_dir(), key[:12])
                scores[name], model_samples, task_seconds[name] = cached["scores"], cached["samples"], cached["seconds"]
                for task in tasks:
                    log.info("evaluate: [%s] base %s: from the cache", progress.done(task, 0.0), task)
            else:
                scores[name], model_samples, task_seconds[name] = score_model(
                    name, base, adapter, params, tasks, Path(task_dir), progress
                )
                base_cache.save(key, inputs, scores[name], model_samples, task_seconds[name])
        else:
            scores[name], model_samples, task_seconds[name] = score_model(
                name, base, adapter, params, tasks, Path(task_dir), progress
            )
        samples += model_samples
        if name != "base" and params["eval"].get("route", True):  # the router ships with an adapter
            route_scores, route_samples, calibration[name] = routed.score_routed(
                name, base, adapter, params, Path(test_file), Path(val_file), exclude=in_suite
            )
            scores[name].update(route_scores)
            samples += route_samples
            route_tasks.update({t: {"layer": "route", "max_gen_toks": 0} for t in route_scores})
        seconds[name] = round(time.perf_counter() - t0, 1)
    table = compare(scores, samples, params)
    table["route"] = calibration  # per adapter: the confidence threshold and how it was calibrated
    table["leaks"] = canary_leaks(samples, list(params["eval"].get("canaries") or []))
    table["critical"] = critical_flips(samples, critical_items())
    hidden = {task for task, s in tasks.items() if s["layer"] == "sealed"}
    generated = [s for s in samples if s["task"] not in routed.TASKS]  # a route's output is a decision, not text
    table["degeneration"] = conceal(degeneration.table(generated), hidden, ("output",))  # loops/gibberish, per model
    table["general"] = general_ability(params, models, Path(task_dir))
    table["retrieval"] = routed.retrieval_recall(params, Path(test_file), Path(index_dir))
    table["layers"] = {task: s["layer"] for task, s in {**tasks, **route_tasks}.items()}
    table["max_gen_toks"] = {t: s["max_gen_toks"] for t, s in {**tasks, **route_tasks}.items()}  # each answer's cap
    table["skipped"], table["notes"] = skipped, {t: s["note"] for t, s in tasks.items() if s.get("note")}
    table["disjoint"] = {"test_items_in_the_regression_suite": len(in_suite), "left_out_of_task_evals": True}
    table["models"] = list(models)  # base, champion (if any), candidate
    write_json(metrics_file, table)
    write_jsonl(samples_file, samples)
    reference = "champion" if "champion" in models else "base"
    flips = conceal(flipped_items(samples, reference), hidden, ("input", "target", reference, "candidate"))
    write_json(flips_file, flips)
    record_timing(
        "evaluate",
        wall_seconds=round(time.perf_counter() - start, 1),
        per_model_seconds=seconds,
        per_task_seconds=task_seconds,
        base_from_cache=cached is not None,
    )
    return table
