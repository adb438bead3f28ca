"""The GPU path: vLLM's OpenAI-compatible server with production and staging as LoRA adapters.

    tuneloop serve --vllm --config deploy/vllm.yaml    # prints the command for the registry's current holders

The adapters are materialised from the registry (the same md5-checked folders the CPU server uses) and
passed as `--lora-modules tuneloop:production=<dir> tuneloop:staging=<dir>`; the base itself answers as
`tuneloop:base`. The chat template is the base's own (vLLM reads it from the tokenizer), the same hash
as everywhere else. A promote or rollback without a restart goes through vLLM's runtime LoRA API
(`VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`, POST /v1/load_lora_adapter and /v1/unload_lora_adapter):
`reload_requests` returns those calls for the new holders. API keys: vLLM reads one key from
VLLM_API_KEY (`--api-key`); rate limits and the redacted request log stay with a gateway in front (the
CPU server's guard and log are not part of vLLM).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

DEFAULTS: dict[str, Any] = {
    "base": "models/base",
    "repo": ".",
    "store": "models/registry",
    "host": "127.0.0.1",
    "port": 8000,
    "served_model_name": "tuneloop:base",
    "max_loras": 2,
    "max_lora_rank": 16,
    "max_model_len": 2048,
    "gpu_memory_utilization": 0.85,
    "dtype": "auto",
}


def load_config(path: str | Path | None) -> dict[str, Any]:
    cfg = dict(DEFAULTS)
    if path is not None:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        unknown = set(loaded) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"{path}: unknown vLLM settings {sorted(unknown)} (known: {sorted(DEFAULTS)})")
        cfg.update(loaded)
    return cfg


def adapters(cfg: dict[str, Any]) -> dict[str, Path]:
    """{served name: adapter folder} for the registry's current production and staging holders."""
    from tuneloop.registry.files import materialize
    from tuneloop.registry.store import Registry

    state = Registry(cfg["repo"]).state()
    out = {}
    for stage in ("production", "staging"):
        name = state.holder(stage)
        if name:
            v = state.versions[name]
            out[f"tuneloop:{stage}"] = materialize(v.md5, cfg["store"], cfg["repo"], rev=v.tag).resolve()
    return out


def command(cfg: dict[str, Any], loras: dict[str, Path]) -> list[str]:
    cmd = [
        "vllm",
        "serve",
        str(Path(cfg["base"]).resolve()),
        "--host",
        str(cfg["host"]),
        "--port",
        str(cfg["port"]),
        "--served-model-name",
        cfg["served_model_name"],
        "--dtype",
        str(cfg["dtype"]),
        "--max-model-len",
        str(cfg["max_model_len"]),
        "--gpu-memory-utilization",
        str(cfg["gpu_memory_utilization"]),
        "--enable-lora",
        "--max-loras",
        str(cfg["max_loras"]),
        "--max-lora-rank",
        str(cfg["max_lora_rank"]),
        "--generation-config",
        "vllm",
    ]
    if loras:
        cmd += ["--lora-modules", *(f"{name}={path}" for name, path in loras.items())]
    return cmd


def reload_requests(old: dict[str, Path], new: dict[str, Path]) -> list[tuple[str, dict[str, str]]]:
    """The runtime-LoRA calls that move a running vLLM server from `old` holders to `new` ones."""
    calls = []
    for name in old:
        if new.get(name) != old[name]:
            calls.append(("/v1/unload_lora_adapter", {"lora_name": name}))
    for name, path in new.items():
        if old.get(name) != path:
            calls.append(("/v1/load_lora_adapter", {"lora_name": name, "lora_path": str(path)}))
    return calls


def shell(cmd: list[str]) -> str:
    return " ".join(shlex.quote(c) for c in cmd)
