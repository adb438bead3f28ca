"""Export an adapter version: the PEFT folder, a merged safetensors model, or a GGUF file for llama.cpp.

    tuneloop export --version v3.0.0 --format adapter --out dist/adapter   # PEFT folder + base tokenizer
    tuneloop export --version v3.0.0 --format merged  --out dist/merged    # base + LoRA merged, safetensors
    tuneloop export --adapter models/adapter --format gguf --out dist/gguf # merged, as one F32 GGUF file

Every export writes `export.json`: the adapter's DVC md5, the base's provenance, and the sha256 of the
chat template it carries, the same hash the server reports on /health (train, eval, export and serve
use the base's one template). GGUF is written by our own code with the `gguf` package, for Llama-family
models (llama.cpp's converter script is not on PyPI and the hub is unreachable here): llama.cpp's
tensor names (gguf.TensorNameMap), its q/k row permutation for rotary embeddings, the hyperparameters,
and the BPE tokenizer (tokens, merges, special ids, chat template), in F32. Tested by loading the file
back with transformers' GGUF reader and comparing logits with the merged model; not run through
llama.cpp itself here (llama-cpp-python builds from source).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tuneloop.io import sha256_file, write_json

FORMATS = ("adapter", "merged", "gguf")


def _merged(base: Path, adapter: Path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return model.eval(), AutoTokenizer.from_pretrained(base)


def run(
    fmt: str,
    out: str | Path,
    base: str | Path = "models/base",
    version: str | None = None,
    adapter: str | Path | None = None,
    repo: str | Path = ".",
    store: str | Path = "models/registry",
) -> dict:
    from tuneloop.dvc_hash import dir_md5 as dvc_dir_md5
    from tuneloop.registry.files import materialize

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {FORMATS}")
    base, out = Path(base), Path(out)
    if not (base / "config.json").exists():
        raise FileNotFoundError(f"{base}: no base model folder (run `tuneloop base`)")
    if version is not None:
        from tuneloop.registry.store import Registry

        v = Registry(repo).version(version)
        adapter = materialize(v.md5, store, repo, rev=v.tag)
    adapter = Path(adapter)
    if not (adapter / "adapter_config.json").exists():
        raise FileNotFoundError(f"{adapter}: not a PEFT adapter folder (no adapter_config.json)")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    manifest: dict[str, Any] = {
        "format": fmt,
        "adapter_md5": dvc_dir_md5(adapter),
        "version": version,
        "chat_template_sha256": template_sha(tokenizer.chat_template),
    }
    if (base / "tuneloop_base.json").exists():
        manifest["base"] = json.loads((base / "tuneloop_base.json").read_text(encoding="utf-8"))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if fmt == "adapter":
        for item in adapter.iterdir():
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, out / item.name)
        tokenizer.save_pretrained(out)  # the template travels with the adapter
    else:
        model, tokenizer = _merged(base, adapter)
        if fmt == "merged":
            model.save_pretrained(out, safe_serialization=True)
            tokenizer.save_pretrained(out)
        else:
            path = out / "model-f32.gguf"
            write_gguf(model, tokenizer, path)
            manifest["gguf"] = {"file": path.name, "sha256": sha256_file(path), "dtype": "F32"}
    write_json(out / "export.json", manifest)
    return {"out": str(out), **manifest}


def template_sha(template: str | None) -> str:
    import hashlib

    return hashlib.sha256((template or "").encode("utf-8")).hexdigest()


def _permute(w, n_head: int):
    # llama.cpp stores q/k rows interleaved for its rotary kernel (convert_hf_to_gguf.py, LlamaModel)
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(model, tokenizer, path: Path) -> Path:
    """A Llama-family model + its BPE tokenizer as one F32 GGUF file (llama.cpp's names and layout)."""
    import gguf
    import numpy as np

    cfg = model.config
    if cfg.model_type != "llama":
        raise ValueError(
            f"GGUF export supports Llama-family models; this one is {cfg.model_type!r} "
            f"(export `merged` and convert with llama.cpp's convert_hf_to_gguf.py)"
        )
    arch = gguf.MODEL_ARCH.LLAMA
    names = gguf.TensorNameMap(arch, cfg.num_hidden_layers)
    writer = gguf.GGUFWriter(str(path), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name("tuneloop-export")
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    writer.add_rope_freq_base(float(getattr(cfg, "rope_theta", None) or cfg.rope_parameters["rope_theta"]))
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_vocab_size(cfg.vocab_size)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    vocab = tokenizer.get_vocab()
    tokens = [""] * cfg.vocab_size
    for tok, i in vocab.items():
        if i < cfg.vocab_size:
            tokens[i] = tok
    special = set(tokenizer.all_special_ids)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(
        [gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for i in range(cfg.vocab_size)]
    )
    merges = json.loads(tokenizer.backend_tokenizer.to_str())["model"].get("merges", [])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    for kind, tid in (
        ("bos", tokenizer.bos_token_id),
        ("eos", tokenizer.eos_token_id),
        ("pad", tokenizer.pad_token_id),
        ("unk", tokenizer.unk_token_id),
    ):
        if tid is not None:
            getattr(writer, f"add_{kind}_token_id")(tid)
    writer.add_add_bos_token(False)
    writer.add_chat_template(tokenizer.chat_template)
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue
        data = tensor.detach().float()
        if name.endswith("q_proj.weight"):
            data = _permute(data, cfg.num_attention_heads)
        elif name.endswith("k_proj.weight"):
            data = _permute(data, cfg.num_key_value_heads)
        mapped = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if mapped is None:
            raise ValueError(f"no GGUF name for tensor {name}")
        writer.add_tensor(mapped, np.ascontiguousarray(data.numpy().astype(np.float32)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
