"""Training mechanics on the tiny model: progress lines, the estimate, padding-free exactness, checkpoints,
resume after a SIGKILL, early stopping. Real TRL/PEFT training, seconds per run."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, tiny_params

from tuneloop.data import build, index, prepare, split
from tuneloop.io import read_json, sha256_file
from tuneloop.train import base, checkpoints, packing
from tuneloop.train import sft as train

# Resumed vs uninterrupted adapters: the same optimizer, RNG and data order are restored, so the tensors
# agree to float32 round-off (measured: identical on this CPU; the bound leaves room for other kernels).
RESUME_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def root(tmp_path_factory, corpus_dir, tiny_model_dir):
    """base, prepare, build, split once for the tiny model, in a scratch repo root (.cache/ lives here)."""
    root = tmp_path_factory.mktemp("mech")
    shutil.copytree(corpus_dir, root / "data" / "raw")
    old = os.getcwd()
    os.chdir(root)
    try:
        params = tiny_params(tiny_model_dir, "data.tasks=[classify,reply]", "preset.padding_free=true")
        for stage in (base, prepare, index, build, split):
            stage.run(params)
        yield root
    finally:
        os.chdir(old)


@pytest.fixture
def at_root(root, monkeypatch):
    monkeypatch.chdir(root)
    return root


def _run(params: dict, out: Path, **kw) -> dict:
    return train.run(
        params, out_dir=out / "adapter", metrics_file=out / "train.json", loss_plot=out / "loss.json", **kw
    )


def _tensors(adapter: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(adapter / "adapter_model.safetensors"))


def test_progress_lines_estimate_and_no_raw_dicts(at_root, tiny_model_dir, tmp_path, caplog, capsys):
    params = tiny_params(tiny_model_dir, "data.tasks=[classify,reply]", "preset.padding_free=true")
    with caplog.at_level(logging.INFO, logger="tuneloop"):
        m = _run(params, tmp_path)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("tuneloop.train")]
    estimate = next(i for i, line in enumerate(lines) if line.startswith("train: estimate before training"))
    steps = [i for i, line in enumerate(lines) if line.startswith("train: step ")]
    assert len(steps) == 6 and estimate < steps[0], "the estimate comes before the first step"
    assert lines[steps[2]].startswith("train: step 3/6 (50%), ") and " elapsed, ETA " in lines[steps[2]]
    assert " loss " in lines[steps[2]] and " lr " in lines[steps[2]]
    assert any(line.startswith("train: validation loss ") for line in lines)
    assert "{'loss'" not in capsys.readouterr().out, "transformers' PrinterCallback dict is gone"
    c = m["compute"]
    assert c["padding_free"] and c["computed_tokens"] == c["train_tokens"] > c["completion_tokens"] > 0
    assert 0 < c["flops_train"] < c["flops_6nt"] and c["tokens_per_example"]["mean"] > 0
    timing = read_json("reports/timing.json")["train"]
    assert timing["estimate"]["seconds"] > 0 and isinstance(timing["estimate"]["error_pct"], float)
    assert timing["real_tokens_per_s"] > 0 and timing["peak_rss_gib"] > 0
    assert not any(Path(".cache/checkpoints").glob("*/checkpoint-*")), "a finished run leaves no checkpoints"


def test_padding_free_is_exact(tiny_model_dir):
    """Loss and gradients of a padded batch equal the padding-free row's (attention per example)."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    packing.register()
    g = torch.Generator().manual_seed(0)
    examples = []
    for n in (7, 12, 5, 9):
        ids = torch.randint(5, 300, (n,), generator=g).tolist()
        examples.append({"input_ids": ids, "labels": [-100] * (n // 2) + ids[n // 2 :]})
    padded = DataCollatorForLanguageModeling(pad_token_id=0)(examples)
    row = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(examples)
    assert row["input_ids"].shape[0] == 1 and row["input_ids"].numel() == 33 < padded["input_ids"].numel()

    def loss_and_grad(attn: str, batch: dict, ours: bool):
        model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attn, dtype=torch.float64)
        loss = packing.completion_loss(model, dict(batch))[0] if ours else model(**batch, use_cache=False).loss
        loss.backward()
        return loss.item(), torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    ref_loss, ref_grad = loss_and_grad("sdpa", padded, ours=False)  # transformers' own loss, padded batch
    loss, grad = loss_and_grad(packing.ATTENTION, row, ours=True)
    assert loss == pytest.approx(ref_loss, rel=1e-6)  # the CE runs in fp32
    assert (grad - ref_grad).abs().max().item() < 1e-10


def test_example_weighting_gives_each_example_the_same_weight(tiny_model_dir):
    """loss_weighting=example: the mean of each example's own mean loss, the same on a padded batch and on
    the padding-free row; a 2-token answer weighs what a 10-token one does (the token average does not)."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    packing.register()
    g = torch.Generator().manual_seed(1)
    examples = []
    for n, answer in ((9, 2), (16, 10), (7, 3)):
        ids = torch.randint(5, 300, (n,), generator=g).tolist()
        examples.append({"input_ids": ids, "labels": [-100] * (n - answer) + ids[n - answer :]})
    model = AutoModelForCausalLM.from_pretrained(
        tiny_model_dir, attn_implementation=packing.ATTENTION, dtype=torch.float64
    )
    with torch.no_grad():
        alone = [
            packing.completion_loss(model, dict(DataCollatorForLanguageModeling(pad_token_id=0)([e])))[0].item()
            for e in examples
        ]  # one example: its token mean
        padded = DataCollatorForLanguageModeling(pad_token_id=0)(examples)
        row = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(examples)
        by_example_padded = packing.completion_loss(model, dict(padded), weight_exponent=0.0)[0].item()
        by_example_row = packing.completion_loss(model, dict(row), weight_exponent=0.0)[0].item()
        by_exponent_zero = packing.completion_loss(model, dict(row), weight_exponent=0)[0].item()  # an int 0 too
        by_token = packing.completion_loss(model, dict(row))[0].item()
        by_sqrt = packing.completion_loss(model, dict(row), weight_exponent=0.5)[0].item()
    expected = sum(alone) / 3  # (the cross-entropy runs in fp32: 1e-6)
    assert by_example_padded == pytest.approx(expected, rel=1e-6)
    assert by_example_row == pytest.approx(expected, rel=1e-6) and by_exponent_zero == pytest.approx(expected, rel=1e-6)
    weighted_by_tokens = (alone[0] * 2 + alone[1] * 10 + alone[2] * 3) / 15  # tokens per answer
    assert by_token == pytest.approx(weighted_by_tokens, rel=1e-6) and by_token != pytest.approx(expected)
    roots = [2**0.5, 10**0.5, 3**0.5]
    assert by_sqrt == pytest.approx(sum(r * a for r, a in zip(roots, alone)) / sum(roots), rel=1e-6)


def test_loss_weighting_is_checked(at_root, tiny_model_dir, tmp_path):
    with pytest.raises(train.TrainError, match="loss_weighting must be 'token', 'sqrt' or 'example'"):
        _run(tiny_params(tiny_model_dir, "data.tasks=[classify]", "preset.loss_weighting=tokens"), tmp_path)


def test_checkpoints_leave_the_adapter_byte_identical(at_root, tiny_model_dir, tmp_path):
    with_ckpt = _run(tiny_params(tiny_model_dir, "data.tasks=[classify,reply]"), tmp_path / "a")
    without = _run(tiny_params(tiny_model_dir, "data.tasks=[classify,reply]", "preset.save_steps=0"), tmp_path / "b")
    assert with_ckpt["train_loss"] == without["train_loss"]
    assert sha256_file(tmp_path / "a/adapter/adapter_model.safetensors") == sha256_file(
        tmp_path / "b/adapter/adapter_model.safetensors"
    )


def test_gradient_checkpointing_changes_memory_not_the_adapter(at_root, tiny_model_dir, tmp_path):
    """Recomputed activations give the adapter that stored ones give, on padding-free batches (the
    recompute replays dropout's RNG state), so turning it on for memory changes no result."""
    on, off = (
        ["data.tasks=[classify,reply]", "preset.save_steps=0", f"preset.gradient_checkpointing={v}"]
        for v in ("true", "false")
    )
    with_recompute = _run(tiny_params(tiny_model_dir, *on), tmp_path / "on")
    stored = _run(tiny_params(tiny_model_dir, *off), tmp_path / "off")
    assert with_recompute["train_loss"] == pytest.approx(stored["train_loss"], abs=1e-6)
    a, b = _tensors(tmp_path / "on/adapter"), _tensors(tmp_path / "off/adapter")
    assert a.keys() == b.keys() and max(float((a[k] - b[k]).abs().max()) for k in a) < RESUME_TOLERANCE


def test_gradient_checkpointing_auto_follows_the_tokens_a_step_holds():
    from tuneloop.hardware import Hardware
    from tuneloop.train import compute

    cpu, gpu = Hardware("cpu", "fp32", "x86_64"), Hardware("cuda", "bf16", "H100")
    assert not compute.use_checkpointing({"batch_size": 8, "max_length": 256}, cpu)  # the default run: 2,048
    assert compute.use_checkpointing({"batch_size": 8, "max_length": 640}, cpu)  # 5,120 > 4,096
    assert compute.use_checkpointing({"batch_size": 1, "max_length": 256}, gpu)
    assert not compute.use_checkpointing({"batch_size": 8, "max_length": 640, "gradient_checkpointing": False}, cpu)
    with pytest.raises(ValueError, match="gradient_checkpointing: 'yes' is not true, false or auto"):
        compute.use_checkpointing({"batch_size": 8, "max_length": 640, "gradient_checkpointing": "yes"}, cpu)


KILLER = """
import json, os, signal, sys
from transformers import TrainerCallback
from tuneloop.train import sft

class KillAfterSave(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        if state.global_step >= int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)   # no cleanup, no finally: what the OOM killer does

params = json.loads(open(sys.argv[1]).read())
out = sys.argv[2]
sft.run(params, out_dir=out + "/adapter", metrics_file=out + "/train.json", loss_plot=out + "/loss.json",
        callbacks=[KillAfterSave()])
"""


def test_kill_then_resume_gives_the_uninterrupted_adapter(at_root, tiny_model_dir, tmp_path, caplog):
    params = tiny_params(tiny_model_dir, "data.tasks=[classify,reply]", "preset.max_steps=8")
    whole = _run(params, tmp_path / "whole")

    (tmp_path / "params.json").write_text(json.dumps(params))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path / "params.json"), str(tmp_path / "killed"), "4"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    left = sorted(Path(".cache/checkpoints").glob("*/checkpoint-*"))
    assert [p.name for p in left] == ["checkpoint-4"] and checkpoints.complete(left[0])
    assert not (tmp_path / "killed/adapter").exists()

    # other inputs (another learning rate) never resume that run: their own folder, from step 0
    other = tiny_params(
        tiny_model_dir, "data.tasks=[classify,reply]", "preset.max_steps=8", "preset.learning_rate=0.005"
    )
    _run(other, tmp_path / "other")
    assert read_json("reports/timing.json")["train"]["resumed_from_step"] is None
    assert left[0].exists(), "a foreign run leaves the interrupted run's checkpoint alone"

    # what `dvc repro` does after the kill: the same command, the output folder deleted first
    with caplog.at_level(logging.INFO, logger="tuneloop"):
        resumed = _run(params, tmp_path / "killed")
    timing = read_json("reports/timing.json")["train"]
    assert timing["resumed_from_step"] == 4 and timing["steps_run"] == 4
    assert any("resuming from" in r.getMessage() for r in caplog.records)
    assert resumed["steps"] == whole["steps"] == 8
    a, b = _tensors(tmp_path / "whole/adapter"), _tensors(tmp_path / "killed/adapter")
    assert a.keys() == b.keys()
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    assert worst <= RESUME_TOLERANCE, f"resumed adapter differs by {worst}"
    assert not any(Path(".cache/checkpoints").glob("*/checkpoint-*")), "the finished run cleaned up"


def test_incomplete_checkpoint_is_skipped(tmp_path):
    (tmp_path / "checkpoint-2").mkdir()
    (tmp_path / "checkpoint-2/trainer_state.json").write_text(json.dumps({"global_step": 2}))
    (tmp_path / "checkpoint-4").mkdir()  # killed while saving: no trainer_state.json yet
    (tmp_path / "checkpoint-4/adapter_model.safetensors").write_bytes(b"half")
    assert checkpoints.last_checkpoint(tmp_path) == tmp_path / "checkpoint-2"
    assert not (tmp_path / "checkpoint-4").exists()


def test_early_stopping_stops_and_keeps_the_best(at_root, tiny_model_dir, tmp_path):
    # a threshold no step can beat: every validation after the first counts as "no better"
    params = tiny_params(
        tiny_model_dir,
        "data.tasks=[classify,reply]",
        "preset.max_steps=20",
        "preset.early_stopping_patience=2",
        "preset.early_stopping_threshold=100",
        "preset.save_steps=2",
    )
    m = _run(params, tmp_path)
    assert m["stopped_early"] and m["steps"] == 6 < m["planned_steps"] == 20
    best = min(m["eval_curve"], key=lambda e: e["loss"])
    assert [e["step"] for e in m["eval_curve"]] == [2, 4, 6]
    assert m["best_step"] == best["step"] and m["eval_loss"] == pytest.approx(best["loss"], abs=1e-6)


def test_eta_and_task_progress_arithmetic():
    from tuneloop.progress import Eta, TaskProgress, duration

    eta = Eta(total=58, start=0.0)
    eta.update(10, elapsed=92.0)
    assert eta.line() == "10/58 (17%), 1 min 32 s elapsed, ETA 7 min 22 s"
    resumed = Eta(total=8, start=0.0, done=4)  # a resumed run: only the steps timed here count
    resumed.update(6, elapsed=10.0)
    assert resumed.remaining == pytest.approx(10.0)
    assert duration(3725) == "1 h 02 min" and duration(None) == "?"
    progress = TaskProgress(["a", "b", "c"], models=2, start=0.0)
    etas = [progress.done(t, s).rsplit("ETA ", 1)[1] for t, s in [("a", 10), ("b", 20), ("c", 30)] * 2]
    # after the first task: b, c at its 10 s each + one more model at 30 s; later, the first model's times
    assert etas == ["50 s", "1 min 00 s", "1 min 00 s", "50 s", "30 s", "0 s"]


# DDP vs one process at the same global batch (2 x 4 vs 8), random order (group_by_length groups by the
# per-process batch), no dropout (each rank has its own RNG stream): the same examples per step and the same
# loss normalisation (tokens of both ranks), so the adapters differ only by the all-reduce's summation order.
DDP_TOLERANCE = 1e-4


@pytest.mark.slow
def test_two_process_gloo_ddp_gives_the_single_process_adapter(at_root, tiny_model_dir, tmp_path):
    common = [
        "data.tasks=[classify,reply]",
        "preset.max_steps=4",
        "preset.group_by_length=false",
        "method.lora_dropout=0.0",
        "preset.save_steps=0",
    ]
    single = _run(tiny_params(tiny_model_dir, *common, "preset.batch_size=8"), tmp_path / "one")
    ddp = _run(
        tiny_params(tiny_model_dir, *common, "preset.batch_size=4", "accelerate=ddp", "accelerate.num_processes=2"),
        tmp_path / "ddp",
    )
    assert ddp["steps"] == single["steps"] == 4
    assert ddp["train_loss"] == pytest.approx(single["train_loss"], abs=1e-4)
    a, b = _tensors(tmp_path / "one/adapter"), _tensors(tmp_path / "ddp/adapter")
    assert a.keys() == b.keys()
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    assert worst <= DDP_TOLERANCE, f"DDP adapter differs by {worst}"


def test_cuda_only_engines_refuse_cpu_clearly():
    from tuneloop.train import launch

    with pytest.raises(launch.LaunchError, match="needs CUDA"):
        launch.accelerate_config({"name": "fsdp", "num_processes": 2, "distributed_type": "FSDP"}, cuda=False)
    cfg = launch.accelerate_config({"name": "ddp", "num_processes": 2, "distributed_type": "auto"}, cuda=False)
    assert cfg["distributed_type"] == "MULTI_GPU" and cfg["num_processes"] == 2  # torch's launcher; gloo on CPU


@pytest.mark.gpu
def test_qlora_trains_on_a_4bit_base(at_root, tiny_model_dir, tmp_path):
    """method=qlora (bitsandbytes NF4 base, the `qlora` extra): a real adapter on CUDA."""
    pytest.importorskip("bitsandbytes")
    m = _run(tiny_params(tiny_model_dir, "data.tasks=[classify,reply]", "method=qlora"), tmp_path)
    assert m["device"] == "cuda" and m["steps"] == 6
    lora_b = [t for name, t in _tensors(tmp_path / "adapter").items() if "lora_B" in name]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b)
    config = json.loads((tmp_path / "adapter/adapter_config.json").read_text())
    assert config["peft_type"] == "LORA"


@pytest.mark.gpu
def test_padding_free_is_exact_on_cuda(tiny_model_dir):
    """The per-example SDPA on CUDA (bf16 model there; compared in fp32 here) matches a padded batch."""
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    packing.register()
    examples = [{"input_ids": list(range(5, 5 + n)), "labels": [-100] * 3 + list(range(8, 5 + n))} for n in (9, 14, 6)]
    padded = {k: v.cuda() for k, v in DataCollatorForLanguageModeling(pad_token_id=0)(examples).items()}
    row = {
        k: v.cuda() if hasattr(v, "cuda") else v
        for k, v in DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(examples).items()
    }
    ref = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa").cuda()
    ours = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=packing.ATTENTION).cuda()
    assert packing.completion_loss(ours, row)[0].item() == pytest.approx(ref(**padded).loss.item(), rel=1e-4)
