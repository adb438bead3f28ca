"""train + evaluate on a tiny random Llama: real TRL/PEFT training and real lm-eval runs, in seconds."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, tiny_params

from tuneloop.data import build, index, prepare, split
from tuneloop.evals import evaluate
from tuneloop.gate import verdict as gate
from tuneloop.io import read_json, sha256_tree
from tuneloop.train import base
from tuneloop.train import sft as train


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory, corpus_dir, tiny_model_dir):
    """prepare -> build -> split -> base -> train (smoke preset) once, in a scratch repo root."""
    root = tmp_path_factory.mktemp("pipeline")
    shutil.copytree(corpus_dir, root / "data" / "raw")
    shutil.copytree(REPO / "evals", root / "evals")
    old = os.getcwd()
    os.chdir(root)
    try:
        params = tiny_params(tiny_model_dir)
        for stage in (base, prepare, index, build, split):
            stage.run(params)
        base_sha = sha256_tree("models/base")
        metrics = train.run(params)
        yield root, params, base_sha, metrics
    finally:
        os.chdir(old)


@pytest.fixture
def in_pipeline(pipeline_dir, monkeypatch):
    monkeypatch.chdir(pipeline_dir[0])
    return pipeline_dir


def test_train_writes_a_peft_adapter_and_leaves_the_base_untouched(in_pipeline):
    root, params, base_sha, metrics = in_pipeline
    from safetensors.torch import load_file

    assert sha256_tree("models/base") == base_sha
    config = json.loads(Path("models/adapter/adapter_config.json").read_text())
    assert config["r"] == 8 and config["lora_alpha"] == 16 and config["peft_type"] == "LORA"
    weights = load_file("models/adapter/adapter_model.safetensors")
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b), "lora_B starts at zero; training must move it"
    assert not any("lora" not in name for name in weights), "the adapter holds LoRA weights only"
    assert metrics["steps"] == params["preset"]["max_steps"]
    assert math.isfinite(metrics["train_loss"]) and math.isfinite(metrics["eval_loss"])
    assert metrics["trainable_params"] < metrics["total_params"] and metrics["precision"] == "fp32"
    curve = read_json("plots/train_loss.json")
    assert [p["step"] for p in curve] == list(range(1, metrics["steps"] + 1))


def test_loss_decreases_on_a_learnable_task(in_pipeline, tmp_path, tiny_model_dir):
    params = tiny_params(
        tiny_model_dir, "preset.max_steps=40", "preset.learning_rate=0.02", "data.tasks=[classify]", "data.safety=false"
    )
    build.run(params, out_file=tmp_path / "examples.jsonl")
    split.run(params, in_file=tmp_path / "examples.jsonl", out_dir=tmp_path / "splits", report_file=tmp_path / "s.json")
    m = train.run(
        params,
        split_dir=tmp_path / "splits",
        out_dir=tmp_path / "adapter",
        metrics_file=tmp_path / "train.json",
        loss_plot=tmp_path / "loss.json",
    )
    curve = [p["loss"] for p in read_json(tmp_path / "loss.json")]
    first, last = sum(curve[:5]) / 5, sum(curve[-5:]) / 5
    assert last < 0.7 * first, f"loss did not fall enough: {first:.3f} -> {last:.3f}"
    assert m["eval_loss"] < curve[0]


def test_same_seed_same_training(in_pipeline, tmp_path):
    root, params, _, metrics = in_pipeline
    again = train.run(
        params, out_dir=tmp_path / "adapter", metrics_file=tmp_path / "train.json", loss_plot=tmp_path / "loss.json"
    )
    assert again["train_loss"] == metrics["train_loss"]
    assert read_json(tmp_path / "loss.json") == read_json("plots/train_loss.json")


def test_qlora_refuses_cpu_with_a_clear_error(in_pipeline, tiny_model_dir, tmp_path):
    params = tiny_params(tiny_model_dir, "method=qlora")
    with pytest.raises(train.TrainError, match="needs CUDA"):
        train.run(params, out_dir=tmp_path / "a", metrics_file=tmp_path / "m.json", loss_plot=tmp_path / "l.json")


@pytest.mark.parametrize("method", ["dora", "full"])
def test_other_methods_train(in_pipeline, tiny_model_dir, tmp_path, method):
    params = tiny_params(tiny_model_dir, f"method={method}", "preset.max_steps=2")
    m = train.run(params, out_dir=tmp_path / "a", metrics_file=tmp_path / "m.json", loss_plot=tmp_path / "l.json")
    assert math.isfinite(m["train_loss"])
    if method == "full":
        assert (tmp_path / "a" / "config.json").exists() and m["trainable_params"] == m["total_params"]
    else:
        assert json.loads((tmp_path / "a" / "adapter_config.json").read_text())["use_dora"] is True


def test_wandb_logs_offline_when_enabled(in_pipeline, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_MODE", "offline")
    params = tiny_params(tiny_model_dir, "logger=wandb", "preset.max_steps=2")
    train.run(params, out_dir=tmp_path / "a", metrics_file=tmp_path / "m.json", loss_plot=tmp_path / "l.json")
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert runs and list(runs[0].glob("*.wandb")), "an offline wandb run with its log file"


def test_evaluate_scores_base_and_adapter_and_is_deterministic(in_pipeline, tmp_path, monkeypatch, caplog):
    root, params, _, _ = in_pipeline
    monkeypatch.setenv("TUNELOOP_EVAL_CACHE", str(tmp_path / "cache"))
    with caplog.at_level(logging.INFO, logger="tuneloop"):
        table = evaluate.run(params)
    assert read_json("reports/timing.json")["evaluate"]["base_from_cache"] is False
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("evaluate: [")]
    n = sum(layer != "route" for layer in table["layers"].values()) * len(table["models"])  # lm-eval's tasks
    assert len(lines) == n and lines[-1].startswith(f"evaluate: [{n}/{n}, ") and "ETA 0 s]" in lines[-1]
    for task, metric in (("tuneloop_classify", "acc"), ("tuneloop_classify", "macro_f1"), ("tuneloop_reply", "rougeL")):
        m = table[task][metric]
        assert 0.0 <= m["pre"] <= 1.0 and 0.0 <= m["post"] <= 1.0
        assert m["delta"] == pytest.approx(m["post"] - m["pre"], abs=1e-5)
    test_tasks = read_json("reports/data/split.json")["test"]["tasks"]
    assert table["tuneloop_classify"]["n"] == test_tasks["classify"]
    assert table["tuneloop_reply"]["n"] == min(8, test_tasks["reply"])
    samples = [json.loads(line) for line in Path("reports/samples.jsonl").read_text().splitlines()]
    assert {s["model"] for s in samples} == {"base", "candidate"}
    again = evaluate.run(params, metrics_file=tmp_path / "eval.json", samples_file=tmp_path / "s.jsonl")
    assert again == table  # the base's scores came from the cache this time: same table, same samples
    assert read_json("reports/timing.json")["evaluate"]["base_from_cache"] is True
    assert (tmp_path / "s.jsonl").read_bytes() == Path("reports/samples.jsonl").read_bytes()
    assert read_json("reports/timing.json")["evaluate"]["wall_seconds"] > 0
    # out-of-scope queries (conf/policy) are in the test split: recall beside in-scope accuracy
    cls = table["tuneloop_classify"]
    assert 0.0 <= cls["oos_recall"]["post"] <= 1.0 and 0.0 <= cls["in_scope_acc"]["post"] <= 1.0
    # every answer of every model was checked for degeneration
    candidate = [s for s in samples if s["model"] == "candidate" and not s["task"].startswith("tuneloop_route_")]
    assert table["degeneration"]["n"] == len(candidate) and table["degeneration"]["rate"]["pre"] is not None
    # all three layers ran through the same harness, every task eval included (the corpus builds them all),
    # and the router in front of generation was scored on the adapter (the base has no calibrated router)
    assert {table["layers"][t] for t in table["layers"]} == {"tasks", "regression", "probes", "route"}
    for task, metric in (
        ("tuneloop_route_classify", "oos_recall"),
        ("tuneloop_route_classify", "in_scope_acc"),
        ("tuneloop_route_escalation", "pass"),
        ("tuneloop_route_escalation", "critical"),
        ("tuneloop_route_helpful", "pass"),
    ):
        assert 0.0 <= table[task][metric]["post"] <= 1.0 and table[task][metric]["pre"] is None
    assert (
        table["tuneloop_route_escalation"]["critical"]["post"] == 1.0
    )  # the policy's critical topics, before any model
    assert 0.0 <= table["route"]["candidate"]["threshold"] <= params["route"]["max_threshold"]
    # only the sealed layer is skipped, and says why: the pipeline never has the sealed holdout
    assert (
        set(table["skipped"]) == {"tuneloop_sealed_classify"}
        and "referee" in table["skipped"]["tuneloop_sealed_classify"]
    )
    assert table["tuneloop_kbqa"]["n"] >= 1 and table["tuneloop_summary"]["n"] == 4
    for family in ("refusal", "format", "pii", "helpful"):
        m = table[f"tuneloop_probe_{family}"]["pass"]
        assert table[f"tuneloop_probe_{family}"]["n"] == 4  # the first 4 of each family
        assert 0.0 <= m["post"] <= 1.0
    reg = table["tuneloop_regression_classify"]["acc"]
    assert reg["post_stderr"] is not None and reg["delta_lower"] <= reg["delta"] <= reg["delta_upper"]
    assert table["models"] == ["base", "candidate"] and table["leaks"]["canary"] == 0
    assert "no GPU" in table["general"]["skipped"]
    gate_result = gate.run(params)
    assert gate_result["rules_total"] == len(params["gate"]["rules"]) + 2  # + contamination and critical items


def test_the_base_score_cache_key_changes_with_what_the_scores_depend_on(in_pipeline):
    from tuneloop.evals import base_cache

    root, params, _, _ = in_pipeline
    tasks, _ = evaluate.planned_tasks(params)

    def key(p, t=tasks):
        return base_cache.cache_key(
            p,
            Path("models/base"),
            t,
            Path("evals/tasks"),  # noqa: E731
            Path("data/splits/test.jsonl"),
        )[0]

    same = key(params)
    assert key(params) == same
    assert key({**params, "seed": params["seed"] + 1}) != same
    assert key(params, {**tasks, "tuneloop_reply": {**tasks["tuneloop_reply"], "limit": 3}}) != same
    assert key({**params, "data": {**params["data"], "system_prompt": "Be terse."}}) != same
    assert key({**params, "eval": {**params["eval"], "backend": {"name": "vllm"}}}) != same


HELLASWAG_ROWS = [  # written for this test in HellaSwag's format (the fields lm-eval's task reads)
    {
        "ind": i,
        "activity_label": label,
        "ctx_a": ctx,
        "ctx_b": "then",
        "ctx": ctx + " then",
        "endings": endings,
        "source_id": f"test~{i}",
        "split": "val",
        "split_type": "indomain",
        "label": str(gold),
    }
    for i, (label, ctx, endings, gold) in enumerate(
        [
            (
                "Making tea",
                "A man fills a kettle with water.",
                ["he boils it.", "he paints it.", "he sings.", "he [title] runs."],
                0,
            ),
            (
                "Gardening",
                "A woman digs a hole in the garden.",
                ["she flies.", "she plants a tree.", "she swims.", "she sleeps."],
                1,
            ),
            (
                "Cycling",
                "A boy pumps up his bike tyre.",
                ["he eats it.", "he reads.", "he rides away.", "he cries."],
                2,
            ),
            (
                "Cooking",
                "A cook cracks two eggs into a pan.",
                ["he drives.", "he dances.", "he jumps.", "he fries them."],
                3,
            ),
        ]
    )
]


def test_the_forgetting_check_reads_its_slice_offline_and_runs_on_cpu_when_asked(in_pipeline):
    from tuneloop.evals import general

    root, params, _, _ = in_pipeline
    cfg = {**params["eval"]["general"], "enabled": True, "limit": 3}
    forced = {**params, "eval": {**params["eval"], "general": cfg}}
    models = {"base": (Path("models/base"), None), "candidate": (Path("models/base"), Path("models/adapter"))}
    missing = evaluate.general_ability(forced, models)
    assert "tuneloop data general-slice" in missing["skipped"] and "dvc add" in missing["skipped"]
    general.fetch(general.DATA_FILE, limit=3, seed=1, loader=lambda name, split: HELLASWAG_ROWS)
    try:
        assert len(general.DATA_FILE.read_text().splitlines()) == 3
        out = evaluate.general_ability(forced, models)  # HF_DATASETS_OFFLINE is set: the local file only
        assert out["n"] == 3 and 0.0 <= out["acc_norm"]["pre"] <= 1.0 and 0.0 <= out["acc_norm"]["post"] <= 1.0
        assert out["acc_norm"]["delta"] == pytest.approx(out["acc_norm"]["post"] - out["acc_norm"]["pre"], abs=1e-5)
    finally:
        general.DATA_FILE.unlink()
    with pytest.raises(ValueError, match="not the HellaSwag format"):
        general.fetch(general.DATA_FILE, loader=lambda name, split: [{"text": "x"}])
