"""vLLM on a GPU: the launch command tuneloop prints, run for real with a tiny adapter (skipped without CUDA)."""

from __future__ import annotations

import subprocess
import time

import pytest

pytestmark = pytest.mark.gpu


def test_vllm_serves_the_base_and_a_lora_adapter(tiny_model_dir, tmp_path):
    pytest.importorskip("vllm", reason="vllm==0.33.0 is installed on GPU hosts only (docs/serving.md)")
    import httpx
    import torch
    from helpers.serve_helpers import free_port
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tuneloop.serve import vllm

    peft = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    torch.manual_seed(0)
    peft.save_pretrained(tmp_path / "adapter")
    cfg = {
        **vllm.DEFAULTS,
        "base": str(tiny_model_dir),
        "port": free_port(),
        "max_model_len": 256,
        "gpu_memory_utilization": 0.2,
    }
    proc = subprocess.Popen(vllm.command(cfg, {"tuneloop:production": tmp_path / "adapter"}))
    url = f"http://127.0.0.1:{cfg['port']}"
    try:
        deadline = time.time() + 300
        while True:
            try:
                if httpx.get(f"{url}/v1/models").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.time() < deadline, "vLLM did not start"
            time.sleep(2)
        ids = {m["id"] for m in httpx.get(f"{url}/v1/models").json()["data"]}
        assert {"tuneloop:base", "tuneloop:production"} <= ids
        r = httpx.post(
            f"{url}/v1/chat/completions",
            timeout=60,
            json={
                "model": "tuneloop:production",
                "max_tokens": 4,
                "temperature": 0,
                "messages": [{"role": "user", "content": "hello"}],
            },
        )
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] is not None
    finally:
        proc.terminate()
        proc.wait(60)
