"""Parameters: compose conf/ with Hydra (what `dvc exp run` does) and read params.yaml (what stages do).

tuneloop params                      # rewrite params.yaml from conf/ (defaults)
tuneloop params preset=quality       # ... with Hydra overrides
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tuneloop.io import write_text_atomic

PARAMS_FILE = "params.yaml"
CONF_DIR = "conf"

MISSING = "???"  # Hydra's mark for a required value no config gave (conf/data_defaults.yaml: data.name)


def compose(overrides: list[str] | None = None, conf_dir: str | Path = CONF_DIR) -> dict[str, Any]:
    """Compose conf/config.yaml with overrides, resolved to plain containers (as DVC writes them)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(Path(conf_dir).resolve()), version_base=None):
        cfg = hydra_compose(config_name="config", overrides=list(overrides or []))
    params = OmegaConf.to_container(cfg, resolve=True)
    _require(params, "the composition of conf/")
    return params


def _require(params: dict[str, Any], where: str) -> None:
    """A required key no config gave (Hydra's `???`) stops here, named, not deep inside a stage."""
    missing = [f"data.{k}" for k, v in (params.get("data") or {}).items() if v == MISSING]
    if missing:
        raise ValueError(
            f"{where}: {', '.join(missing)} is required: set it in conf/data/<name>.yaml "
            "(conf/data_defaults.yaml lists every data key and its default)"
        )


def write_params(params: dict[str, Any], path: str | Path = PARAMS_FILE) -> Path:
    text = yaml.safe_dump(params, sort_keys=False, default_flow_style=False)
    return write_text_atomic(path, text)


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found; run `tuneloop params` to compose it from conf/")
    with path.open(encoding="utf-8") as fh:
        params = yaml.safe_load(fh)
    _require(params, str(path))  # DVC's own composition (`dvc exp run -S data=acme`) writes `???` as it is
    return params


def resolve_training(params: dict[str, Any]) -> dict[str, Any]:
    """Turn the preset's "auto" values into numbers, documented in conf/preset/balanced.yaml."""
    preset = dict(params["preset"])
    method = params["method"]
    if preset["learning_rate"] == "auto":
        preset["learning_rate"] = float(method["learning_rate"])
    if preset["warmup"] == "auto":
        preset["warmup"] = 0.03
    if preset["lora_alpha"] == "auto":
        preset["lora_alpha"] = 2 * int(preset["lora_rank"])
    caps = preset.get("max_train_examples")
    if isinstance(caps, dict):
        data = params.get("data", {})  # the out-of-scope answer counts as a label (data.out_of_scope_label)
        n_labels = len(data.get("labels") or []) + bool(data.get("out_of_scope_label"))
        preset["max_train_examples"] = {task: _cap(task, cap, n_labels) for task, cap in caps.items()}
    return preset


def _cap(task: str, cap: Any, n_labels: int) -> int | None:
    """A task's example cap: a number, null, or {per_label: N, max: M} (classification scales with its labels)."""
    if not isinstance(cap, dict):
        return cap
    if set(cap) - {"per_label", "max"} or "per_label" not in cap:
        raise ValueError(
            f"preset.max_train_examples.{task}: {dict(cap)} must be a number, null or {{per_label: N, max: M}}"
        )
    scaled = int(cap["per_label"]) * max(n_labels, 1)
    return min(scaled, int(cap["max"])) if cap.get("max") is not None else scaled
