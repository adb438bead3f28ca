"""The judged adapter is the served adapter: the referee writes the adapter_config.json every loader reads
(tuneloop.lora_config), so PEFT, the CPU server and vLLM build W + (alpha/r)·BA, the product computed here
by hand. Keys that would make a loader build something else (PiSSA/OLoRA initialisers rewrite the base on
load, alpha_pattern, exclude_modules, DoRA on a LoRA method ...) are refused with their name and value."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch

from tuneloop.lora_config import canonical_config, is_canonical, refusals
from tuneloop.referee.adapter import AdapterError, canonicalize, read_safetensors_header, stage_copy

IDS = torch.tensor([[1, 5, 9, 14, 3, 7]])


def random_lora(base_dir: Path, out: Path, **config) -> Path:
    """A LoRA with non-zero A and B (a fresh one has B = 0, which would hide a wrong scale)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base_dir),
        LoraConfig(
            r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], task_type="CAUSAL_LM", **config
        ),
    )
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn_like(p) * 0.2)
    model.save_pretrained(out)
    cfg = json.loads((out / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "models/base"
    (out / "adapter_config.json").write_text(json.dumps(cfg))
    (out / "README.md").unlink(missing_ok=True)
    return out


def by_hand(base_dir: Path, adapter: Path, scale: float) -> torch.Tensor:
    """Logits of the base with W += scale · B @ A for every A/B pair in the safetensors file."""
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
    weights = load_file(adapter / "adapter_model.safetensors")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, a in weights.items():
            if ".lora_A." in name:
                module = name.removeprefix("base_model.model.").split(".lora_A.")[0]
                b = weights[name.replace(".lora_A.", ".lora_B.")]
                params[f"{module}.weight"] += scale * (b @ a)
        return model(IDS).logits


def through_peft(base_dir: Path, adapter: Path) -> torch.Tensor:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        return PeftModel.from_pretrained(base, str(adapter)).eval()(IDS).logits


def test_the_canonical_config_loads_exactly_w_plus_scaled_ba(tiny_model_dir, tmp_path):
    rs = random_lora(tiny_model_dir, tmp_path / "rslora", use_rslora=True)
    submitted = through_peft(tiny_model_dir, rs)  # what PEFT builds from the PR's own config
    staged = tmp_path / "staged"
    assert stage_copy(rs, staged) == []
    config = canonicalize(staged)
    assert is_canonical(config) and config["use_rslora"] is False
    assert config["lora_alpha"] == pytest.approx(8 * math.sqrt(4))  # rsLoRA's alpha/sqrt(r) as a plain scale
    assert config["target_modules"] == ["down_proj", "q_proj", "v_proj"]
    hand = by_hand(tiny_model_dir, staged, 8 / math.sqrt(4))
    assert torch.allclose(through_peft(tiny_model_dir, staged), hand, atol=1e-4)
    assert torch.allclose(submitted, hand, atol=1e-4)  # normalised, not changed
    plain = random_lora(tiny_model_dir, tmp_path / "plain")
    canonicalize(plain)
    assert torch.allclose(through_peft(tiny_model_dir, plain), by_hand(tiny_model_dir, plain, 8 / 4), atol=1e-4)


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("init_lora_weights", "pissa", "init_lora_weights='pissa'"),
        ("init_lora_weights", "olora", "init_lora_weights='olora'"),
        ("alpha_pattern", {"q_proj": 64}, "alpha_pattern={'q_proj': 64}"),
        ("rank_pattern", {"v_proj": 2}, "rank_pattern="),
        ("exclude_modules", ["down_proj"], "exclude_modules=['down_proj']"),
        ("layers_to_transform", [0], "layers_to_transform=[0]"),
        ("use_dora", True, "use_dora=True with method 'lora'"),
        ("lora_bias", True, "lora_bias=True"),
    ],
)
def test_keys_that_change_what_a_loader_builds_are_refused_by_name_and_value(
    tmp_path, tiny_model_dir, key, value, named
):
    src = random_lora(tiny_model_dir, tmp_path / "a")
    cfg = json.loads((src / "adapter_config.json").read_text())
    cfg[key] = value
    (src / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(AdapterError, match="refused: .*" + __import__("re").escape(named)):
        canonicalize(src)


def test_inert_initialisers_are_normalised_and_dora_is_kept_for_the_dora_method():
    names = [
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
    ]
    for init in (True, False, "gaussian"):
        assert canonical_config({"r": 4, "lora_alpha": 8, "init_lora_weights": init}, names)["init_lora_weights"]
    assert refusals({"use_dora": True}, "dora") == [] and refusals({"use_dora": False}, "dora")


def test_the_referee_copies_once_and_never_follows_a_link(tmp_path, tiny_model_dir):
    src = random_lora(tiny_model_dir, tmp_path / "src")
    (src / "evil").symlink_to("/dev/zero")
    problems = stage_copy(src, tmp_path / "copy")
    assert problems and "links and subfolders are not accepted" in problems[0]
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    # later changes to the source do not reach the copy
    shutil.copyfile(src / "adapter_config.json", tmp_path / "cfg")
    (src / "adapter_model.safetensors").write_bytes(b"swapped")
    assert read_safetensors_header(tmp_path / "copy" / "adapter_model.safetensors")


def test_loading_a_staging_adapter_never_moves_productions_or_the_bases_logits(tiny_model_dir, tmp_path):
    from tuneloop.serve.engine import Engine

    engine = Engine(tiny_model_dir)
    production = random_lora(tiny_model_dir, tmp_path / "prod")
    canonicalize(production)
    engine.load("prod", production)

    def logits(md5):
        with torch.inference_mode():
            if md5 is None:
                with engine.peft.disable_adapter():
                    return engine.peft(IDS).logits.clone()
            engine.peft.set_adapter(engine.adapters[md5])
            return engine.peft(IDS).logits.clone()

    before = {m: logits(m) for m in ("prod", None)}
    staging = random_lora(tiny_model_dir, tmp_path / "staging")
    canonicalize(staging)
    engine.load("staging", staging)
    for m, value in before.items():
        assert torch.equal(logits(m), value), f"loading staging moved {m or 'the base'}"
    pissa = random_lora(tiny_model_dir, tmp_path / "pissa")
    cfg = json.loads((pissa / "adapter_config.json").read_text())
    (pissa / "adapter_config.json").write_text(json.dumps({**cfg, "init_lora_weights": "pissa"}))
    with pytest.raises(ValueError, match="not a canonical adapter config.*init_lora_weights='pissa'"):
        engine.load("pissa", pissa)
    for m, value in before.items():
        assert torch.equal(logits(m), value)
