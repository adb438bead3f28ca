"""The one adapter_config.json every loader builds the same model from: a plain LoRA, W + (alpha/r)·BA.

    from tuneloop.lora_config import canonical_config, refusals
    config = canonical_config(pr_config, tensor_names, method="lora")   # raises ValueError listing refusals

A PR's adapter_config.json can ask PEFT for more than its weights say: `init_lora_weights: pissa` or
`olora` rewrite the *base* weights on load, `alpha_pattern` and `rank_pattern` change per-module scales
that vLLM's LoRA loader ignores, `exclude_modules` and `layers_to_transform` silently drop A/B pairs,
`use_dora` adds a magnitude vector, `lora_bias` a bias. The referee scores, and the registry and the
servers load, only a config written here from the few fields a plain LoRA needs: each key that would
change what PEFT or vLLM builds is refused with its name and value, and the two that have an exact plain
equivalent are normalised (`use_rslora`: alpha·sqrt(r) instead; `init_lora_weights` True/False/gaussian:
initialisation only, overwritten by the weights). Standard library only (the server and the referee).
"""

from __future__ import annotations

import math
import re
from typing import Any

TENSOR = re.compile(r"base_model\.model\.(?P<module>[\w.]+)\.(?P<part>lora_A|lora_B)\.weight")
# init values that only choose A/B's starting point: the loaded weights overwrite it, the base is untouched
INERT_INIT = (True, False, "gaussian")
# keys the canonical config drops because they describe the run, not the model (or are equivalent here)
DESCRIPTIVE = ("peft_version", "revision", "inference_mode", "lora_dropout", "qalora_group_size")


def refusals(config: dict[str, Any], method: str = "lora") -> list[str]:
    """Every key whose value would make PEFT, the CPU server or vLLM build a model other than W + (alpha/r)·BA."""
    bad = []
    init = config.get("init_lora_weights", True)
    if init not in INERT_INIT:
        bad.append(f"init_lora_weights={init!r} (PEFT rewrites the base weights on load; only {list(INERT_INIT)})")
    for key in ("alpha_pattern", "rank_pattern"):
        if config.get(key):
            bad.append(f"{key}={config[key]!r} (per-module scales or ranks: vLLM's loader ignores them)")
    for key in ("exclude_modules", "layers_to_transform", "layers_pattern"):
        if config.get(key) not in (None, [], ""):
            bad.append(f"{key}={config[key]!r} (PEFT would leave out A/B pairs the weights hold)")
    if bool(config.get("use_dora")) != (method == "dora"):
        bad.append(f"use_dora={config.get('use_dora')!r} with method {method!r} (DoRA adds a magnitude vector)")
    if config.get("lora_bias"):
        bad.append(f"lora_bias={config['lora_bias']!r} (a bias term vLLM does not load)")
    if config.get("ensure_weight_tying"):
        bad.append(f"ensure_weight_tying={config['ensure_weight_tying']!r} (ties adapter weights across modules)")
    return bad


def canonical_config(config: dict[str, Any], tensor_names: list[str], method: str = "lora") -> dict[str, Any]:
    """The config the referee writes beside the weights it scored (and every loader then reads)."""
    bad = refusals(config, method)
    if bad:
        raise ValueError("adapter_config.json: refused: " + "; ".join(bad))
    r, alpha = int(config["r"]), float(config.get("lora_alpha", 8))
    if config.get("use_rslora"):
        alpha = alpha * math.sqrt(r)  # rsLoRA scales by alpha/sqrt(r): the same product as alpha·sqrt(r)/r
    leaves = sorted({m["module"].rsplit(".", 1)[-1] for n in tensor_names if (m := TENSOR.fullmatch(n))})
    if not leaves:
        raise ValueError("adapter_config.json: the weights hold no LoRA A/B pair")
    return {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": config.get("base_model_name_or_path"),
        "r": r,
        "lora_alpha": int(alpha) if float(alpha).is_integer() else alpha,
        "target_modules": leaves,
        "lora_dropout": 0.0,
        "bias": "none",
        "fan_in_fan_out": False,
        "use_rslora": False,
        "use_dora": method == "dora",
        "init_lora_weights": True,
        "modules_to_save": None,
        "inference_mode": True,
    }


def is_canonical(config: dict[str, Any], method: str = "lora") -> bool:
    """True when a loader may build this config as it is (what the referee writes passes)."""
    return not refusals(config, method) and not config.get("use_rslora")
