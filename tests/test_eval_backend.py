"""lm-eval's backend: HF on CPU (the default every other test runs), vLLM on a GPU runner.

The vLLM comparison is `gpu`-marked: it runs wherever CUDA and vllm are installed and skips elsewhere."""

from __future__ import annotations

import importlib.util
import math

import pytest
from conftest import REPO

from tuneloop import hardware
from tuneloop.evals import evaluate


def test_an_unknown_backend_is_a_clear_error(tiny_model_dir):
    with pytest.raises(ValueError, match=r"eval.backend: unknown backend 'tgi' \(hf \| vllm\)"):
        evaluate.load_lm(tiny_model_dir, None, 4, {"name": "tgi"})


@pytest.mark.skipif(
    hardware.detect().device == "cuda" and importlib.util.find_spec("vllm") is not None, reason="this host can run vLLM"
)
def test_the_vllm_backend_says_what_it_needs_where_it_cannot_run(tiny_model_dir):
    with pytest.raises(RuntimeError, match=r"needs a CUDA GPU and `pip install vllm==0\.33\.0`.*eval.backend.name=hf"):
        evaluate.load_lm(tiny_model_dir, None, 4, {"name": "vllm"})


def test_the_backend_follows_the_config_and_defaults_to_hf():
    assert evaluate.backend({"seed": 3, "eval": {}}) == {"name": "hf", "seed": 3}
    assert evaluate.backend({"seed": 3, "eval": {"backend": {"name": "vllm", "max_lora_rank": 32}}}) == {
        "name": "vllm",
        "max_lora_rank": 32,
        "seed": 3,
    }


@pytest.mark.gpu
def test_vllm_scores_the_default_adapter_like_the_hf_backend(monkeypatch):
    """Greedy answers of base and adapter through both backends: the same scores within 0.05 and the same
    answer on >= 90% of items (bf16 kernels differ between the two, so a near-tie may flip an item)."""
    if hardware.detect().device != "cuda" or importlib.util.find_spec("vllm") is None:
        pytest.skip("needs CUDA and vllm==0.33.0 (GPU hosts only)")
    base, adapter = REPO / "models" / "base", REPO / "models" / "adapter"
    if not (adapter / "adapter_config.json").exists():
        pytest.skip("needs the default run's models/base and models/adapter (make run)")
    import yaml

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    monkeypatch.chdir(REPO)
    tasks = {t: s for t, s in evaluate.planned_tasks(params)[0].items() if s["layer"] in ("probes", "regression")}
    for model_dir in (None, adapter):
        name = "base" if model_dir is None else "candidate"
        hf_scores, hf_samples, _ = evaluate.score_model(name, base, model_dir, params, tasks)
        vl_params = {**params, "eval": {**params["eval"], "backend": {"name": "vllm"}}}
        vl_scores, vl_samples, _ = evaluate.score_model(name, base, model_dir, vl_params, tasks)
        for task, scores in hf_scores.items():
            for metric, value in scores.items():
                if (
                    not metric.endswith("_stderr")
                    and metric != "n"
                    and isinstance(value, float)
                    and math.isfinite(value)
                ):
                    assert abs(vl_scores[task][metric] - value) <= 0.05, (
                        name,
                        task,
                        metric,
                        value,
                        vl_scores[task][metric],
                    )
        same = sum(a["output"].strip() == b["output"].strip() for a, b in zip(hf_samples, vl_samples))
        assert same >= 0.9 * len(hf_samples), (name, same, len(hf_samples))
