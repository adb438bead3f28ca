"""The candidate adapter as data: validate it without executing or unpickling anything, hash it as DVC does.

    from tuneloop.referee.adapter import validate_adapter

A pull request's train job hands over a folder; nothing in it is trusted. `validate_adapter` reads it
with `json` and a hand-written safetensors header parser (no torch, no pickle, no PEFT, no custom
code): only `adapter_config.json` and `adapter_model.safetensors` may be present (no subfolders, no
links); the config may hold only allow-listed keys, with the risky ones (custom classes, modules to
save in full, megatron modules, LoftQ/EVA/CorDA initialisers ...) left at their defaults; the LoRA
must target linear modules the base branch allows, of *the base branch's* base model, with tensor
shapes that fit that model's weights; and the whole folder stays under a size bound. Every problem is
reported, naming the file and the key or tensor at fault.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
from pathlib import Path
from typing import Any

CONFIG = "adapter_config.json"
WEIGHTS = "adapter_model.safetensors"
ADAPTER_FILES = (CONFIG, WEIGHTS)
MAX_ADAPTER_BYTES = 2 * 1024**3  # 2 GiB: a rank-64 LoRA of a 8B model is ~0.7 GB
MAX_HEADER_BYTES = 16 * 1024**2  # a safetensors JSON header; real ones are a few hundred KB
MAX_RANK = 512
DTYPE_BYTES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}  # floating point only: LoRA weights are floats
# Keys PEFT 0.2x writes for a LoRA. None: any value of the listed type is fine; a tuple: the allowed values.
FREE = {
    "r": int,
    "lora_alpha": (int, float),
    "lora_dropout": (int, float),
    "target_modules": (list, str),
    "peft_version": str,
    "base_model_name_or_path": str,
    "revision": (str, type(None)),
    "inference_mode": bool,
    "use_rslora": bool,
    "use_dora": bool,
    "init_lora_weights": (bool, str),
    "rank_pattern": dict,
    "alpha_pattern": dict,
    "qalora_group_size": int,
    "lora_bias": bool,
    "exclude_modules": (list, str, type(None)),
    "layers_to_transform": (list, int, type(None)),
    "layers_pattern": (list, str, type(None)),
    "ensure_weight_tying": bool,
}
# Risky keys: they load code, save whole modules or reshape the model; only their defaults are accepted.
FIXED = {
    "peft_type": ("LORA",),
    "task_type": ("CAUSAL_LM",),
    "bias": ("none",),
    "fan_in_fan_out": (False,),
    "auto_mapping": (None,),
    "modules_to_save": (None, []),
    "megatron_config": (None,),
    "megatron_core": (None, "megatron.core"),
    "trainable_token_indices": (None,),
    "loftq_config": ({}, None),
    "eva_config": (None,),
    "corda_config": (None,),
    "lora_ga_config": (None,),
    "velora_config": (None,),
    "alora_invocation_tokens": (None,),
    "use_qalora": (False,),
    "monteclora_config": (None,),
    "layer_replication": (None,),
    "target_parameters": (None, []),
    "use_bdlora": (None, False),
    "arrow_config": (None,),
    "kasa_config": (None,),
}
TENSOR = re.compile(r"base_model\.model\.(?P<module>[\w.]+)\.(?P<part>lora_A|lora_B)\.weight")
NEVER_TARGET = ("lm_head", "embed_tokens")  # a "LoRA" of these would rewrite the vocabulary


class AdapterError(ValueError):
    """The candidate folder is not an acceptable adapter; the message lists every problem."""


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a .safetensors file, checked for consistency with the file's size."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            raise AdapterError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
        (length,) = struct.unpack("<Q", raw)
        if length > MAX_HEADER_BYTES or 8 + length > size:
            raise AdapterError(f"{path}: not a safetensors file (header length {length} for a {size}-byte file)")
        try:
            header = json.loads(fh.read(length).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise AdapterError(f"{path}: safetensors header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise AdapterError(f"{path}: safetensors header is not a JSON object")
    body, end = size - 8 - length, 0
    tensors = [(k, v) for k, v in header.items() if k != "__metadata__"]
    for name, info in tensors:  # every field's type first: a forged header gets a reason, never a TypeError
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise AdapterError(f"{path}: tensor {name!r}: expected dtype, shape and data_offsets")
        offsets, shape = info["data_offsets"], info["shape"]
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_count(o) for o in offsets)):
            raise AdapterError(f"{path}: tensor {name!r}: data_offsets {offsets!r} is not two byte offsets")
        if not (isinstance(shape, list) and all(_count(d) for d in shape)):
            raise AdapterError(f"{path}: tensor {name!r}: bad shape {shape!r}")
        if not isinstance(info["dtype"], str):
            raise AdapterError(f"{path}: tensor {name!r}: dtype {info['dtype']!r} is not a name")
    for name, info in sorted(tensors, key=lambda kv: kv[1]["data_offsets"][0]):
        start, stop = info["data_offsets"]
        shape = info["shape"]
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise AdapterError(f"{path}: tensor {name!r}: bad shape {shape}")
        if info["dtype"] not in DTYPE_BYTES:
            raise AdapterError(f"{path}: tensor {name!r}: dtype {info['dtype']} (allowed: {sorted(DTYPE_BYTES)})")
        if start != end or stop - start != math.prod(shape) * DTYPE_BYTES[info["dtype"]]:
            raise AdapterError(f"{path}: tensor {name!r}: data_offsets {info['data_offsets']} do not fit its shape")
        end = stop
    if end != body:
        raise AdapterError(f"{path}: tensors cover {end} of the file's {body} data bytes")
    return header


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def base_weights(base_dir: Path) -> dict[str, list[int]]:
    """{parameter name: shape} of the base model, read from its safetensors headers."""
    shapes: dict[str, list[int]] = {}
    for f in sorted(Path(base_dir).glob("*.safetensors")):
        shapes.update({k: v["shape"] for k, v in read_safetensors_header(f).items() if k != "__metadata__"})
    if not shapes:
        raise AdapterError(f"{base_dir}: the base branch's base model has no *.safetensors weights to check against")
    return shapes


def _check_config(config: Any, allowed_targets: set[str] | None, base_names: set[str]) -> list[str]:
    where = CONFIG
    if not isinstance(config, dict):
        return [f"{where}: not a JSON object"]
    problems = [
        f"{where}: key {k!r} is not allowed (allowed: {sorted(FREE) + sorted(FIXED)})"
        for k in sorted(set(config) - set(FREE) - set(FIXED))
    ]
    for key, types in FREE.items():
        if key in config and not isinstance(config[key], types):
            problems.append(f"{where}: {key} has type {type(config[key]).__name__}")
    for key, values in FIXED.items():
        if key in config and config[key] not in values:
            problems.append(f"{where}: {key}={config[key]!r}; the referee accepts only {list(values)}")
    for key in ("peft_type", "r", "target_modules", "base_model_name_or_path"):
        if key not in config:
            problems.append(f"{where}: {key} is missing")
    if isinstance(config.get("r"), int) and not 0 < config["r"] <= MAX_RANK:
        problems.append(f"{where}: r={config['r']} outside 1..{MAX_RANK}")
    if (config.get("base_model_name_or_path") or "") not in base_names:
        problems.append(
            f"{where}: base_model_name_or_path={config.get('base_model_name_or_path')!r} is not the base "
            f"branch's base model ({sorted(base_names)})"
        )
    targets = config.get("target_modules")
    targets = [targets] if isinstance(targets, str) else targets if isinstance(targets, list) else []
    for t in targets:  # a name ("q_proj") or a module path ("model.layers.0.self_attn.q_proj")
        leaf = t.rsplit(".", 1)[-1] if isinstance(t, str) else None
        if leaf is None or leaf in NEVER_TARGET or (allowed_targets is not None and leaf not in allowed_targets):
            problems.append(
                f"{where}: target module {t!r} is not allowed by the base branch "
                f"({sorted(allowed_targets) if allowed_targets is not None else 'all linear layers'})"
            )
    return problems


def _check_tensors(header: dict, config: dict, base: dict[str, list[int]]) -> list[str]:
    problems, where, seen = [], WEIGHTS, {}
    targets = config.get("target_modules")
    targets = None if targets in ("all-linear", None) else {targets} if isinstance(targets, str) else set(targets)
    rank_pattern = config.get("rank_pattern") or {}
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                problems.append(f"{where}: __metadata__ must map strings to strings")
            continue
        m = TENSOR.fullmatch(name)
        if not m:
            problems.append(f"{where}: tensor {name!r} is not a LoRA A/B weight")
            continue
        module, part, shape = m["module"], m["part"], info["shape"]
        leaf = module.rsplit(".", 1)[-1]
        base_shape = base.get(f"{module}.weight")
        if base_shape is None or len(base_shape) != 2:
            problems.append(f"{where}: tensor {name!r} targets {module!r}, which is no linear layer of the base model")
            continue
        if leaf in NEVER_TARGET or (
            targets is not None and not any(module == t or module.endswith("." + t) for t in targets)
        ):
            problems.append(f"{where}: tensor {name!r}: module {leaf!r} is not among target_modules")
        out_f, in_f = base_shape
        r = shape[0] if part == "lora_A" and len(shape) == 2 else shape[-1] if len(shape) == 2 else None
        expected = [r, in_f] if part == "lora_A" else [out_f, r]
        if (
            len(shape) != 2
            or shape != expected
            or not r
            or r > MAX_RANK
            or (not rank_pattern and isinstance(config.get("r"), int) and r != config["r"])
        ):
            problems.append(
                f"{where}: tensor {name!r} has shape {shape}; the base model's {module} is "
                f"[{out_f}, {in_f}] with r={config.get('r')}"
            )
        seen.setdefault(module, set()).add(part)
    problems += [f"{where}: {m} has only {sorted(p)}" for m, p in sorted(seen.items()) if p != {"lora_A", "lora_B"}]
    if not seen and not problems:
        problems.append(f"{where}: holds no LoRA weights")
    return problems


def validate_adapter(
    adapter_dir: str | Path, base_dir: str | Path, method: dict[str, Any], base_names: set[str]
) -> dict[str, Any]:
    """Check a candidate folder; returns its config, raises AdapterError listing every problem.

    method: the base branch's `method` params (its target_modules); base_names: the names an honest
    adapter_config may give the base model (the pipeline's models/base path, the hub id).
    """
    adapter_dir = Path(adapter_dir)
    if not adapter_dir.is_dir() or adapter_dir.is_symlink():
        raise AdapterError(f"{adapter_dir}: not a folder")
    problems, total = [], 0
    for p in sorted(adapter_dir.iterdir()):
        if p.is_symlink() or not p.is_file():
            problems.append(f"{p}: links and subfolders are not accepted in an adapter")
        elif p.name not in ADAPTER_FILES:
            problems.append(
                f"{p}: unexpected file (an adapter is exactly {' + '.join(ADAPTER_FILES)}; "
                "pickles, code and tokenizers are refused)"
            )
        else:
            total += p.stat().st_size
    missing = [f for f in ADAPTER_FILES if not (adapter_dir / f).is_file()]
    problems += [f"{adapter_dir / f}: missing" for f in missing]
    if total > MAX_ADAPTER_BYTES:
        problems.append(f"{adapter_dir}: {total} bytes, over the {MAX_ADAPTER_BYTES}-byte bound")
    if problems:
        raise AdapterError("; ".join(problems))
    try:
        config = json.loads((adapter_dir / CONFIG).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AdapterError(f"{adapter_dir / CONFIG}: not JSON ({exc})") from None
    targets = method.get("target_modules")
    allowed = None if targets == "all-linear" else {targets} if isinstance(targets, str) else set(targets or [])
    problems = _check_config(config, allowed, base_names)
    header = read_safetensors_header(adapter_dir / WEIGHTS)
    if not problems:
        problems = _check_tensors(header, config, base_weights(Path(base_dir)))
    if problems:
        raise AdapterError("; ".join(problems))
    return config


def stage_copy(src: str | Path, dst: str | Path) -> list[str]:
    """Copy the handed-over folder ONCE into the referee's own place (regular files only, links never
    followed, bounded); from then on the referee hashes, validates, scores and publishes only this copy,
    so nothing that swaps the source between those steps reaches the verdict. Returns what was not copied."""
    import os

    src, dst = Path(src), Path(dst)
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    if not src.is_dir() or src.is_symlink():
        return [f"{src}: not a folder"]
    problems, total = [], 0
    for p in sorted(src.iterdir()):
        if p.is_symlink() or not p.is_file():
            problems.append(f"{p}: links and subfolders are not accepted in an adapter")
            continue
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fin, (dst / p.name).open("wb") as fout:
            while block := fin.read(1 << 20):
                total += len(block)
                if total > MAX_ADAPTER_BYTES:
                    problems.append(f"{src}: over {MAX_ADAPTER_BYTES} bytes")
                    return problems
                fout.write(block)
    return problems


def canonicalize(adapter_dir: str | Path, method: str = "lora") -> dict[str, Any]:
    """Replace a validated adapter's config by the canonical one (tuneloop.lora_config); returns it.
    Raises AdapterError naming each key that would make a loader build another model."""
    from tuneloop.lora_config import canonical_config

    adapter_dir = Path(adapter_dir)
    config = json.loads((adapter_dir / CONFIG).read_text(encoding="utf-8"))
    names = [k for k in read_safetensors_header(adapter_dir / WEIGHTS) if k != "__metadata__"]
    try:
        canonical = canonical_config(config, names, method)
    except ValueError as exc:
        raise AdapterError(f"{adapter_dir / CONFIG}: {exc}") from None
    (adapter_dir / CONFIG).write_text(json.dumps(canonical, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return canonical


def copy_adapter(src: str | Path, dst: str | Path) -> Path:
    """Copy exactly the two adapter files (after validation) into a fresh folder."""
    dst = Path(dst)
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for name in ADAPTER_FILES:
        shutil.copyfile(Path(src) / name, dst / name)
    return dst
