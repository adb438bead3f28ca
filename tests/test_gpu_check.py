"""benchmarks/gpu_check.py (`make gpu-check`) on a CPU host: one skip line and exit 0, and the rule that turns a
skipped gpu test into a failure where CUDA is present. The GPU path itself runs on a GPU host only."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from conftest import REPO

SCRIPT = REPO / "benchmarks/gpu_check.py"

# pytest's JUnit XML (xunit2) for `pytest -m gpu` on a GPU host where vllm is missing and one test failed.
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0"
failures="1" skipped="2" tests="4" time="41.2"><testcase classname="tests.test_eval_backend"
name="test_vllm_scores_the_default_adapter_like_the_hf_backend" time="0.001"><skipped type="pytest.skip"
message="needs CUDA and vllm==0.33.0 (GPU hosts only)">/repo/tests/test_eval_backend.py:41: needs CUDA and vllm==0.33.0
</skipped></testcase><testcase classname="tests.test_serve_gpu" name="test_vllm_serves_the_base_and_a_lora_adapter"
time="0.002"><skipped type="pytest.skip" message="could not import 'vllm': No module named 'vllm'">/repo/tests/x.py:14:
could not import 'vllm'</skipped></testcase><testcase classname="tests.test_train_mechanics"
name="test_qlora_trains_on_a_4bit_base" time="30.5"><failure message="AssertionError: assert 'cpu' == 'cuda'">def
test_qlora...</failure></testcase><testcase classname="tests.test_train_mechanics"
name="test_padding_free_is_exact_on_cuda" time="10.7" /></testsuite></testsuites>"""


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_cuda_it_prints_one_skip_line_and_exits_0():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this host has CUDA: gpu-check runs for real here")
    env = {
        **os.environ,
        "PATH": os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if not (p and os.path.exists(os.path.join(p, "nvidia-smi")))
        ),
    }
    report = REPO / "reports/gpu-check/result.json"
    before = report.stat().st_mtime_ns if report.exists() else None
    run = subprocess.run([sys.executable, str(SCRIPT)], cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"gpu-check: skipped: no CUDA device (torch {torch.__version__}, cuda build: {torch.version.cuda})"
    ]
    assert (report.stat().st_mtime_ns if report.exists() else None) == before  # a skip leaves the last report alone


def test_a_gpu_host_with_a_cpu_torch_fails_instead_of_skipping(gpu_check, tmp_path, monkeypatch, capsys):
    """nvidia-smi sees a GPU but torch cannot: skipping would hide exactly what the check is for."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this host has CUDA")
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert gpu_check.main([]) == 2
    line = capsys.readouterr().out.strip()
    assert line.startswith("gpu-check: FAILED: setup: nvidia-smi shows a GPU (NVIDIA H100 80GB HBM3)")
    assert "torch==2.13.0" in line and "\n" not in line


def test_junit_parsing_counts_every_outcome(gpu_check):
    cases = gpu_check.parse_junit(JUNIT)
    assert [c["outcome"] for c in cases] == ["skipped", "skipped", "failed", "passed"]
    assert cases[0]["id"] == "tests.test_eval_backend::test_vllm_scores_the_default_adapter_like_the_hf_backend"
    assert cases[1]["message"] == "could not import 'vllm': No module named 'vllm'"
    assert cases[2]["seconds"] == pytest.approx(30.5)


def test_with_cuda_a_skipped_gpu_test_is_a_failure_that_names_the_fix(gpu_check):
    cases = gpu_check.parse_junit(JUNIT)
    verdict = gpu_check.judge_tests(cases, returncode=1, cuda=True)
    assert verdict["status"] == "failed"
    assert verdict["counts"] == {"passed": 1, "failed": 1, "error": 0, "skipped": 2}
    assert (
        "test_vllm_serves_the_base_and_a_lora_adapter skipped (a gpu test may not skip on a CUDA host)"
        in verdict["reason"]
    )
    assert "fix: pip install vllm==0.33.0" in verdict["reason"]
    assert "test_qlora_trains_on_a_4bit_base failed: AssertionError" in verdict["reason"]
    parity = gpu_check.parity_parts(cases, cuda=True)
    assert parity["vllm-eval-parity"]["status"] == parity["vllm-serve-parity"]["status"] == "failed"

    # all passed with CUDA: passed; the same skips without CUDA (the CPU dry run): skipped, not failed
    passed = [{**c, "outcome": "passed", "message": ""} for c in cases]
    assert gpu_check.judge_tests(passed, 0, cuda=True)["status"] == "passed"
    skipped = [{**c, "outcome": "skipped"} for c in cases]
    assert gpu_check.judge_tests(skipped, 0, cuda=False) == {
        "status": "skipped",
        "reason": "",
        "counts": {"passed": 0, "failed": 0, "error": 0, "skipped": 4},
    }


def test_a_run_with_no_gpu_test_or_a_timeout_fails(gpu_check):
    assert gpu_check.judge_tests([], 5, cuda=True)["reason"] == "no gpu-marked test ran (pytest exit 5)"
    passed = [{"id": "a::b", "outcome": "passed", "message": "", "seconds": 1.0}]
    timed_out = gpu_check.judge_tests(passed, -15, cuda=True, timed_out_s=360)
    assert timed_out["status"] == "failed" and "timed out after 360 s" in timed_out["reason"]
    assert gpu_check.fix_for("could not import 'bitsandbytes'").startswith("pip install -e '.[qlora]'")
    assert gpu_check.fix_for("needs the default run's models/base and models/adapter (make run)").startswith("make run")
