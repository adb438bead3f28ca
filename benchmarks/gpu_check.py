"""The first thing to run on a CUDA machine: every `gpu`-marked test, then a short training benchmark.

    make gpu-check                                        # = .venv/bin/python benchmarks/gpu_check.py
    .venv/bin/python benchmarks/gpu_check.py --parts train --base models/base --budget-s 300
    .venv/bin/python benchmarks/gpu_check.py --cpu-dry-run       # this script's own logic, on CPU, tiny models

Without CUDA it prints one line (`gpu-check: skipped: no CUDA device (...)`) and exits 0, so it can sit in
any checklist. With CUDA nothing may skip: a part that cannot run there (vllm or bitsandbytes missing, no
trained adapter, a test skipped for any reason) is a failure that names the part, the reason and the fix.
Parts (`--parts`, run in this order, each wrapped so one failing still lets the others run and report):
  tests  `pytest -m gpu` in a child process (tests/test_eval_backend.py: vLLM vs HF eval parity,
         tests/test_serve_gpu.py: vLLM serving a LoRA, tests/test_train_mechanics.py: QLoRA and padding-free
         on CUDA); counted from its JUnit XML; the two vLLM parities are reported as parts of their own;
  train  tokens/s and peak GPU memory of LoRA (bf16) and QLoRA (bitsandbytes NF4) on SmolLM2-135M-Instruct
         and on a ~1B Llama with random weights (the GPU host has no network, and speed and memory do not
         depend on the weights' values): a plain PEFT forward/backward/AdamW loop on the project's own model
         loader (train/sft.py build_model), every position a real token (no padding), after warm-up steps.
Everything lands in --out (default reports/gpu-check/): result.json (all figures), result.md (the summary
to paste into docs), pytest.log. The whole run keeps to --budget-s (default 540 s): tests get what the
train part does not need (TRAIN_RESERVE_S). Exit 0 when every part passed, 1 when any failed, 2 on a
GPU host whose torch cannot use the GPU (a CPU build).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's tuneloop, whatever the venv has installed

PARTS = ("tests", "train")
TRAIN_RESERVE_S = 180  # the train part: ~1 min on one modern GPU, plus building the 1B base; the rest goes to tests
# The two vLLM parities live in gpu tests; each becomes a part of the report, keyed by its test module.
PARITY = {"vllm-eval-parity": "test_eval_backend", "vllm-serve-parity": "test_serve_gpu"}
# What a skip or failure message points at -> the command that fixes it on a GPU host (docs/gpu-check.md).
FIXES = [
    ("vllm", "pip install vllm==0.33.0   (GPU hosts only, not a tuneloop dependency: docs/serving.md)"),
    ("bitsandbytes", "pip install -e '.[qlora]'   (bitsandbytes==0.50.2, the `qlora` extra of pyproject.toml)"),
    ("make run", "make run   (the default run's models/base and models/adapter, which the eval parity compares)"),
    (
        "needs cuda",
        "the pytest process sees no GPU: check CUDA_VISIBLE_DEVICES and "
        "`python -c 'import torch; print(torch.cuda.is_available())'`",
    ),
]
# The larger base: Llama-3.2-1B's shape (conf/model/llama-3.2-1b-instruct.yaml; gated on the hub, and the GPU
# host is offline anyway) with SmolLM2's vocabulary, random weights. ~1.07B parameters.
LARGE_SHAPE = dict(
    hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8
)
DRY_SHAPES = {
    "small": dict(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2
    ),
    "large": dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2
    ),
}
SMOLLM2_VOCAB = 49152  # used when no SmolLM2 folder is at hand to read it from


class CheckError(RuntimeError):
    """A part cannot run here; the message says why and what to install or run."""


# --- tests: pytest -m gpu, judged from its JUnit XML --------------------------------------------------------


def parse_junit(xml_text: str) -> list[dict]:
    """One dict per test case in pytest's JUnit XML: id, outcome (passed|failed|error|skipped), message, seconds."""
    cases = []
    for case in ET.fromstring(xml_text).iter("testcase"):
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                text = (node.text or "").strip().splitlines()
                message = node.get("message") or (text[-1] if text else "")
                break
        cases.append(
            {
                "id": f"{case.get('classname', '')}::{case.get('name', '')}",
                "outcome": outcome,
                "message": (message or "")[:500],
                "seconds": float(case.get("time") or 0.0),
            }
        )
    return cases


def fix_for(message: str) -> str | None:
    low = message.lower()
    return next((fix for key, fix in FIXES if key in low), None)


def judge_tests(cases: list[dict], returncode: int | None, cuda: bool, timed_out_s: float | None = None) -> dict:
    """Status and reason of the tests part. With CUDA a skipped gpu test is a failure: it did not run where it
    could only run here. Without CUDA (the dry run) skips are expected and the part is 'skipped'."""
    counts = {o: sum(c["outcome"] == o for c in cases) for o in ("passed", "failed", "error", "skipped")}
    problems = [c for c in cases if c["outcome"] in ("failed", "error") or (cuda and c["outcome"] == "skipped")]
    reasons = []
    if timed_out_s is not None:
        reasons.append(f"pytest timed out after {timed_out_s:.0f} s and was stopped (raise --budget-s)")
    if not cases:
        reasons.append(
            "no per-test results (see pytest.log)"
            if timed_out_s is not None
            else f"no gpu-marked test ran (pytest exit {returncode})"
        )
    for c in problems:
        fix = fix_for(c["message"])
        reasons.append(
            f"{c['id']} {c['outcome']}"
            + (" (a gpu test may not skip on a CUDA host)" if c["outcome"] == "skipped" else "")
            + f": {c['message']}"
            + (f" -> fix: {fix}" if fix else "")
        )
    if returncode not in (0, None) and not problems and timed_out_s is None and cases:
        reasons.append(f"pytest exited {returncode} (see pytest.log)")
    if reasons:
        status = "failed"
    elif counts["skipped"]:
        status = "skipped"  # only without CUDA
    else:
        status = "passed"
    return {"status": status, "reason": "; ".join(reasons), "counts": counts}


def parity_parts(cases: list[dict], cuda: bool) -> dict:
    parts = {}
    for part, module in PARITY.items():
        mine = [c for c in cases if module in c["id"]]
        verdict = judge_tests(mine, 0, cuda)
        if not mine:
            verdict["reason"] = f"no result for tests/{module}.py in the gpu run"
        parts[part] = {"status": verdict["status"], "reason": verdict["reason"], "tests": mine}
    return parts


def run_tests(out: Path, timeout_s: float, cuda: bool) -> tuple[dict, dict]:
    junit = Path(tempfile.mkdtemp(prefix="gpu-check-junit-")) / "junit.xml"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "gpu",
        "-q",
        "-p",
        "no:cacheprovider",
        "-rs",
        "tests/",
        f"--junitxml={junit}",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    preflight = [
        f"{name} is not installed -> fix: {fix_for(name)}"
        for name in ("vllm", "bitsandbytes")
        if importlib.util.find_spec(name) is None
    ]
    if not (ROOT / "models/adapter/adapter_config.json").exists():
        preflight.append(f"no models/adapter -> fix: {fix_for('make run')}")
    start, timed_out = time.perf_counter(), None
    # its own process group: a timeout also ends the vLLM servers and engines the tests started
    with open(out / "pytest.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = timeout_s
            _kill_group(proc)
    cases = parse_junit(junit.read_text(encoding="utf-8")) if junit.exists() else []
    shutil.rmtree(junit.parent, ignore_errors=True)
    verdict = judge_tests(cases, proc.returncode, cuda, timed_out)
    part = {
        **verdict,
        "seconds": round(time.perf_counter() - start, 1),
        "command": " ".join(cmd[2:-1]),
        "tests": cases,
        "preflight": preflight,
        "log": "pytest.log",
    }
    return part, parity_parts(cases, cuda)


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


# --- train: LoRA / QLoRA throughput and memory -------------------------------------------------------------


def smollm2_base(arg: str | None) -> tuple[Path, str]:
    """--base, else models/base when it is SmolLM2-135M, else the project's `base` stage into .cache/gpu-check/."""
    if arg:
        if not (Path(arg) / "config.json").exists():
            raise CheckError(f"--base {arg}: no config.json there; expected a Hugging Face model folder")
        return Path(arg), f"--base {arg}"
    default = ROOT / "models/base"
    provenance = default / "tuneloop_base.json"
    if (default / "config.json").exists() and (
        not provenance.exists() or json.loads(provenance.read_text()).get("name") == "smollm2-135m"
    ):
        return default, "models/base"
    cache = ROOT / ".cache/gpu-check/smollm2-135m"
    if (cache / "config.json").exists():
        return cache, f"{cache.relative_to(ROOT)} (built by an earlier gpu-check)"
    import yaml

    from tuneloop.train import base

    model = yaml.safe_load((ROOT / "conf/model/smollm2-135m.yaml").read_text())
    try:  # local_path, the hub, then the offline wheel: on a host without network only a local copy works
        base.run({"model": model}, cache)
    except Exception as exc:
        raise CheckError(
            f"could not build SmolLM2-135M-Instruct with the project's base stage ({type(exc).__name__}: "
            f"{str(exc)[:300]}) -> fix: copy models/base from a machine that ran `make run` "
            "(or `dvc pull models/base`), or pass --base DIR"
        ) from exc
    return cache, f"{cache.relative_to(ROOT)} (built now by train/base.py from conf/model/smollm2-135m.yaml)"


def random_llama(dest: Path, shape: dict, vocab_size: int, device: str) -> tuple[Path, int]:
    """A LlamaForCausalLM with random weights, saved in bf16 (fp32 on CPU) so build_model loads it like any base."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=vocab_size, max_position_embeddings=4096, tie_word_embeddings=True, **shape)
    torch.manual_seed(0)
    try:
        with torch.device(device):  # initialising 1B weights on the GPU takes a second, on the CPU far longer
            model = LlamaForCausalLM(config)
    except Exception:  # untested on this GPU: the CPU is slower but sure
        model = LlamaForCausalLM(config)
    model.to(torch.bfloat16 if device == "cuda" else torch.float32).save_pretrained(dest)
    parameters = sum(p.numel() for p in model.parameters())
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return dest, parameters


def train_case(base_dir: Path, method_name: str, args, hw, deadline: float) -> dict:
    import torch
    import yaml
    from peft import get_peft_model

    from tuneloop.train import compute, sft

    method = yaml.safe_load((ROOT / f"conf/method/{method_name}.yaml").read_text())
    if method["load_in_4bit"] and importlib.util.find_spec("bitsandbytes") is None:
        raise CheckError(f"bitsandbytes is not installed -> fix: {fix_for('bitsandbytes')}")
    preset = {"lora_rank": args.lora_rank, "lora_alpha": 2 * args.lora_rank}  # the presets' alpha: auto = 2 x rank
    cuda = hw.device == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    model, peft_config = sft.build_model(base_dir, method, preset, hw, seed=0)  # the train stage's own loader
    model.config.use_cache = False
    if args.checkpointing:  # what the train stage does on a GPU (preset.gradient_checkpointing: auto)
        model.activation_checkpointing_enable()
    model = get_peft_model(model, peft_config)
    if method["load_in_4bit"]:  # as TRL's SFTTrainer does for a quantized base: adapter weights in bf16
        for param in model.parameters():
            if param.requires_grad:
                param.data = param.data.to(torch.bfloat16)
    else:
        model.to(hw.device)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    vocab = model.get_input_embeddings().num_embeddings
    generator = torch.Generator().manual_seed(0)
    total = args.warmup + args.steps
    batches = torch.randint(0, vocab, (total, args.batch, args.seq_len), generator=generator).to(hw.device)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    autocast = torch.autocast(hw.device, dtype=hw.dtype, enabled=hw.precision != "fp32")  # as Trainer's bf16=True
    losses, timed, start = [], 0, 0.0
    for step in range(total):
        if step == args.warmup:
            sync()
            start = time.perf_counter()
        if step >= args.warmup and time.time() > deadline:
            break
        with autocast:
            loss = model(input_ids=batches[step], labels=batches[step]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach())
        timed += step >= args.warmup
    sync()
    elapsed = time.perf_counter() - start
    losses = [float(x) for x in losses]
    tokens = timed * args.batch * args.seq_len
    result = {
        "status": "passed",
        "reason": "",
        "steps_timed": timed,
        "warmup_steps": args.warmup,
        "tokens_timed": tokens,
        "seconds_timed": round(elapsed, 3),
        "tokens_per_s": round(tokens / elapsed, 1) if timed else None,
        "s_per_step": round(elapsed / timed, 4) if timed else None,
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 3) if cuda else None,
        "loss_first": round(losses[0], 4) if losses else None,
        "loss_last": round(losses[-1], 4) if losses else None,
        "trainable_params": sum(p.numel() for p in trainable),
    }
    if timed < args.steps:
        result.update(
            status="failed", reason=f"budget exhausted after {timed} of {args.steps} timed steps (--budget-s)"
        )
    elif not all(map(_finite, losses)):
        result.update(status="failed", reason=f"non-finite loss {losses}: a broken kernel or precision setting")
    if not method["load_in_4bit"] and timed:
        # achieved FLOP/s against this GPU's measured matmul bound: the figure train/compute.py's
        # EFFICIENCY["cuda"] (a placeholder until now) should hold. Counted on the bf16 model (a 4-bit weight's
        # tensor shape is its packed storage); QLoRA runs the same matmuls after dequantizing.
        counts = compute.parameter_counts(model)
        per_step = compute.training_flops(
            counts, args.batch * args.seq_len, args.batch * args.seq_len, full=False, recompute=args.checkpointing
        )["executed"]
        cfg = model.config
        bound = compute.matmul_flops(
            cfg.hidden_size, cfg.intermediate_size, args.batch * args.seq_len, hw.device, hw.dtype
        )
        achieved = per_step * timed / elapsed
        result.update(
            counts=counts,
            achieved_tflops=round(achieved / 1e12, 3),
            bound_tflops=round(bound / 1e12, 3),
            efficiency=round(achieved / bound, 3),
        )
    del model, optimizer, batches
    if cuda:
        torch.cuda.empty_cache()
    return result


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def run_train(args, deadline: float, dry_run: bool) -> dict:
    import gc

    import torch

    from tuneloop import hardware

    hw = hardware.detect()
    start = time.perf_counter()
    part = {
        "status": "passed",
        "reason": "",
        "cases": [],
        "bases": {},
        "settings": {
            "batch": args.batch,
            "seq_len": args.seq_len,
            "warmup_steps": args.warmup,
            "timed_steps": args.steps,
            "lora_rank": args.lora_rank,
            "lora_alpha": 2 * args.lora_rank,
            "target_modules": "all-linear (conf/method)",
            "precision": hw.precision,
            "activation_checkpointing": args.checkpointing,
            "optimizer": "torch AdamW",
            "attention": "sdpa, full rows (no padding)",
            "data": "random token ids, seed 0",
        },
    }
    scratch = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    try:
        bases: dict[str, Path | CheckError] = {}
        small = "smollm2-135m-instruct" if not dry_run else "dry-run-small"
        try:
            if dry_run and not args.base:
                bases[small], source = (
                    random_llama(scratch / "small", DRY_SHAPES["small"], 512, "cpu")[0],
                    "random (dry run)",
                )
            else:
                bases[small], source = smollm2_base(args.base)
            part["bases"][small] = {"source": source, "random_weights": dry_run and not args.base}
        except Exception as exc:
            bases[small] = exc if isinstance(exc, CheckError) else CheckError(f"{type(exc).__name__}: {exc}")
            part["bases"][small] = {"error": str(bases[small])}
        large = "random-llama-1b" if not dry_run else "dry-run-large"
        try:
            vocab = SMOLLM2_VOCAB
            if not dry_run and isinstance(bases[small], Path):
                vocab = json.loads((bases[small] / "config.json").read_text()).get("vocab_size", vocab)
            shape = DRY_SHAPES["large"] if dry_run else LARGE_SHAPE
            bases[large], parameters = random_llama(scratch / "large", shape, 512 if dry_run else vocab, hw.device)
            part["bases"][large] = {
                "source": "random (dry run)"
                if dry_run
                else (
                    f"random weights, built here: LlamaForCausalLM {shape}, vocab {vocab}, tied embeddings "
                    "(Llama-3.2-1B's shape; the GPU host has no network; tokens/s and memory do not depend on the "
                    "weights' values)"
                ),
                "random_weights": True,
                "parameters": parameters,
            }
        except Exception as exc:
            bases[large] = CheckError(f"building the random 1B base failed: {type(exc).__name__}: {exc}")
            part["bases"][large] = {"error": str(bases[large])}
        for name, base_dir in bases.items():
            for method in ("lora", "qlora"):
                case = {"base": name, "method": method}
                t0 = time.perf_counter()
                try:
                    if isinstance(base_dir, Exception):
                        raise base_dir
                    if dry_run and method == "qlora":
                        case.update(status="skipped", reason="CPU dry run: 4-bit bitsandbytes needs CUDA")
                    elif time.time() > deadline - 20:
                        raise CheckError("not run: the --budget-s was spent before this case")
                    else:
                        case.update(train_case(base_dir, method, args, hw, deadline))
                except Exception as exc:
                    case.update(
                        status="failed",
                        reason=f"{type(exc).__name__}: {exc}"[:1000],
                        traceback=traceback.format_exc()[-3000:],
                    )
                case["seconds"] = round(time.perf_counter() - t0, 1)
                part["cases"].append(case)
                print(f"gpu-check: train {name} {method}: {_case_line(case)}", flush=True)
                gc.collect()
                if hw.device == "cuda":
                    torch.cuda.empty_cache()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    failed = [c for c in part["cases"] if c["status"] == "failed"]
    if failed:
        part.update(status="failed", reason="; ".join(f"{c['base']}/{c['method']}: {c['reason']}" for c in failed))
    part["seconds"] = round(time.perf_counter() - start, 1)
    return part


def _case_line(case: dict) -> str:
    if case["status"] != "passed":
        return f"{case['status']}: {case['reason']}"
    mem = f", peak {case['peak_memory_gib']} GiB" if case.get("peak_memory_gib") is not None else ""
    return f"{case['tokens_per_s']:,.0f} tokens/s{mem}, {case['steps_timed']} steps"


# --- the run ------------------------------------------------------------------------------------------------


def host_info() -> dict:
    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "driver": _nvidia_smi("driver_version"),
        "platform": platform.platform(),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            device=props.name,
            device_count=torch.cuda.device_count(),
            memory_gib=round(props.total_memory / 2**30, 1),
            capability=f"{props.major}.{props.minor}",
        )
    for package in ("transformers", "peft", "trl", "vllm", "bitsandbytes"):
        info[package] = _version(package)
    try:
        info["git_commit"] = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.TimeoutExpired):
        info["git_commit"] = None
    return info


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _nvidia_smi(field: str) -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def markdown(result: dict) -> str:
    h = result["host"]
    lines = [
        f"# gpu-check: {result['status'].upper()}",
        "",
        f"{result['finished']} UTC, commit `{h.get('git_commit')}`, {result['wall_s']:.0f} s of a "
        f"{result['budget_s']:.0f} s budget"
        + (" — **CPU DRY RUN: the figures mean nothing**" if result["dry_run"] else ""),
        "",
        f"- device: {h.get('device', 'none')} x{h.get('device_count', 0)} ({h.get('memory_gib')} GiB, "
        f"compute capability {h.get('capability')}), driver {h.get('driver')}",
        f"- torch {h['torch']} (CUDA {h['torch_cuda']}, cuDNN {h['cudnn']}), transformers {h['transformers']}, "
        f"peft {h['peft']}, vllm {h['vllm']}, bitsandbytes {h['bitsandbytes']}",
        "",
        "| part | status | s | why |",
        "|---|---|---:|---|",
    ]
    for name, part in result["parts"].items():
        why = " ".join(part["reason"].split()).replace("|", "/")
        lines.append(f"| {name} | {part['status']} | {part.get('seconds', '')} | {why[:600]} |")
    train = result["parts"].get("train")
    if train:
        s = train["settings"]
        lines += [
            "",
            f"Training throughput: batch {s['batch']} x {s['seq_len']} tokens, {s['warmup_steps']} warm-up + "
            f"{s['timed_steps']} timed steps, LoRA r {s['lora_rank']} / alpha {s['lora_alpha']} on all linear "
            f"layers, {s['precision']}, activation checkpointing {'on' if s['activation_checkpointing'] else 'off'}.",
            "",
            "| base | method | status | tokens/s | peak GiB | s/step | steps | achieved TFLOP/s | efficiency |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for c in train["cases"]:
            lines.append(
                f"| {c['base']} | {c['method']} | {c['status']} | {c.get('tokens_per_s', '')} | "
                f"{c.get('peak_memory_gib', '')} | {c.get('s_per_step', '')} | {c.get('steps_timed', '')} | "
                f"{c.get('achieved_tflops', '')} | {c.get('efficiency', '')} |"
            )
        lines += [""] + [f"- {name}: {b.get('source') or b.get('error')}" for name, b in train["bases"].items()]
    tests = result["parts"].get("tests")
    if tests:
        lines += ["", f"gpu tests (`{tests['command']}`):", ""]
        lines += [
            f"- {c['id']}: {c['outcome']}" + (f" ({' '.join(c['message'].split())[:300]})" if c["message"] else "")
            for c in tests["tests"]
        ]
        lines += [f"- preflight: {line}" for line in tests.get("preflight", [])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", default=None, help="report folder (default reports/gpu-check; a temp dir in a dry run)"
    )
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, from {','.join(PARTS)}")
    parser.add_argument("--budget-s", type=float, default=540, help="the whole run's wall-clock limit")
    parser.add_argument("--base", default=None, help="SmolLM2-135M-Instruct folder (default: models/base or built)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (kernels, allocator)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--lora-rank", type=int, default=8, help="conf/preset/balanced.yaml's rank")
    parser.add_argument(
        "--checkpointing",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="activation checkpointing, on by default as the train stage does on a GPU",
    )
    parser.add_argument(
        "--cpu-dry-run",
        action="store_true",
        help="exercise this script on CPU: tiny random models, 1 + 2 steps, QLoRA skipped",
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if not parts or set(parts) - set(PARTS):
        parser.error(f"--parts: choose from {','.join(PARTS)}")

    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.cpu_dry_run:
        gpus = _nvidia_smi("name")
        if gpus:  # a GPU host with a CPU build of torch: skipping here would hide exactly what this check is for
            print(
                f"gpu-check: FAILED: setup: nvidia-smi shows a GPU ({gpus}) but torch {torch.__version__} (cuda "
                f"build: {torch.version.cuda}) cannot use it -> fix: install a CUDA build of torch==2.13.0 "
                "(on Linux x86_64 PyPI's wheel is one: pip uninstall -y torch && pip install torch==2.13.0; "
                "docs/gpu-check.md)",
                flush=True,
            )
            return 2
        print(f"gpu-check: skipped: no CUDA device (torch {torch.__version__}, cuda build: {torch.version.cuda})")
        return 0
    dry_run = args.cpu_dry_run and not cuda
    if dry_run:
        args.warmup, args.steps, args.batch, args.seq_len = 1, 2, 2, 32
    out = (
        Path(args.out)
        if args.out
        else Path(tempfile.mkdtemp(prefix="gpu-check-dry-"))
        if dry_run
        else ROOT / "reports/gpu-check"
    )
    out.mkdir(parents=True, exist_ok=True)
    from tuneloop.io import write_json, write_text_atomic

    started = time.time()
    deadline = started + args.budget_s
    result = {
        "status": "running",
        "dry_run": dry_run,
        "budget_s": args.budget_s,
        "host": host_info(),
        "parts": {},
        "started": datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "notes": [
            "CPU dry run: tiny random models, the figures only show that the script works"
            if dry_run
            else "random-llama-1b has random weights (no network on the GPU host): its tokens/s and memory "
            "stand for any Llama-3.2-1B-shaped model, its loss means nothing"
        ],
    }
    print(
        f"gpu-check: {result['host'].get('device', 'CPU (dry run)')}, torch {torch.__version__}, CUDA "
        f"{torch.version.cuda}, driver {result['host']['driver']}; parts {','.join(parts)}; "
        f"budget {args.budget_s:.0f} s",
        flush=True,
    )

    def save():
        result["wall_s"] = round(time.time() - started, 1)
        result["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        write_json(out / "result.json", result)
        write_text_atomic(out / "result.md", markdown(result))

    for name in PARTS:
        if name not in parts:
            continue
        t0 = time.perf_counter()
        try:
            if name == "tests":
                reserve = TRAIN_RESERVE_S if "train" in parts else 0
                timeout = max(60.0, deadline - time.time() - reserve)
                result["parts"]["tests"], parity = run_tests(out, timeout, cuda)
                result["parts"].update(parity)
            else:
                result["parts"]["train"] = run_train(args, deadline, dry_run)
        except Exception as exc:  # the part's own machinery broke: report it, run the next part
            result["parts"][name] = {
                "status": "failed",
                "reason": f"{type(exc).__name__}: {exc}"[:1000],
                "traceback": traceback.format_exc()[-3000:],
                "seconds": round(time.perf_counter() - t0, 1),
            }
        part = result["parts"][name]
        print(f"gpu-check: {name}: {part['status']}" + (f": {part['reason']}" if part["reason"] else ""), flush=True)
        save()
    failed = [n for n, p in result["parts"].items() if p["status"] == "failed"]
    result["status"] = "failed" if failed else "passed"
    save()
    for n in failed:
        print(f"gpu-check: FAILED: {n}: {result['parts'][n]['reason']}", flush=True)
    print(f"gpu-check: {result['status']} in {result['wall_s']:.0f} s -> {out / 'result.json'}, {out / 'result.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
