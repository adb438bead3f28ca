"""Exports of a real PEFT adapter on the tiny Llama: adapter folder, merged safetensors, GGUF (read back)."""

from __future__ import annotations

import json

import pytest

from tuneloop.dvc_hash import dir_md5 as dvc_dir_md5
from tuneloop.registry import export


@pytest.fixture(scope="module")
def adapter(tiny_model_dir, tmp_path_factory):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # a LoRA that changes the outputs, as a trained one does
    out = tmp_path_factory.mktemp("adapter") / "adapter"
    peft.save_pretrained(out)
    return out


def _logits(model, tok):
    import torch

    ids = tok("Hello team, my router is offline", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return model(ids).logits


def test_adapter_export_carries_the_template_hash(tiny_model_dir, adapter, tmp_path):
    from transformers import AutoTokenizer

    done = export.run("adapter", tmp_path / "a", base=tiny_model_dir, adapter=adapter)
    manifest = json.loads((tmp_path / "a" / "export.json").read_text())
    assert manifest["adapter_md5"] == dvc_dir_md5(adapter) == done["adapter_md5"]
    assert manifest["chat_template_sha256"] == export.template_sha(
        AutoTokenizer.from_pretrained(tiny_model_dir).chat_template
    )
    assert (tmp_path / "a" / "adapter_model.safetensors").exists() and (tmp_path / "a" / "tokenizer.json").exists()


def test_merged_and_gguf_exports_give_the_adapters_logits(tiny_model_dir, adapter, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    want = _logits(PeftModel.from_pretrained(base, str(adapter)).eval(), tok)
    assert not torch.allclose(want, _logits(AutoModelForCausalLM.from_pretrained(tiny_model_dir), tok), atol=1e-3)
    export.run("merged", tmp_path / "m", base=tiny_model_dir, adapter=adapter)
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    assert torch.allclose(_logits(merged, tok), want, atol=1e-4)
    done = export.run("gguf", tmp_path / "g", base=tiny_model_dir, adapter=adapter)
    gguf_file = tmp_path / "g" / done["gguf"]["file"]
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "g", gguf_file=gguf_file.name)
    assert torch.allclose(_logits(loaded, tok), want, atol=1e-4)
    gtok = AutoTokenizer.from_pretrained(tmp_path / "g", gguf_file=gguf_file.name)
    assert gtok("Hello team")["input_ids"] == tok("Hello team")["input_ids"]
    assert export.template_sha(gtok.chat_template) == done["chat_template_sha256"]


def test_export_refuses_bad_input(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        export.run("onnx", tmp_path / "x", base=tiny_model_dir, adapter=tmp_path)
    with pytest.raises(FileNotFoundError, match="not a PEFT adapter"):
        export.run("adapter", tmp_path / "x", base=tiny_model_dir, adapter=tmp_path)
