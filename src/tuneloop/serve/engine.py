"""The CPU engine: one base model (transformers), LoRA adapters loaded beside it (PEFT), one generation
at a time.

Generation follows the evaluate stage's lm-eval HF backend step for step, so the server's greedy
answers equal the harness's item for item (tests/test_serve_parity.py): the same chat template (the
base's, identified by its sha256), the config's system prompt when a request brings none, the same BOS
rule when encoding, greedy decoding, special tokens skipped when decoding, and the text cut at the first
stop string. Adapters are PEFT adapters named by their DVC md5; switching between them is
`set_adapter` under the lock, so a promote or rollback never reloads the base or restarts anything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneloop.registry.export import template_sha  # one definition of the template's hash


def check_canonical(adapter_dir: Path) -> None:
    """Refuse an adapter whose config would make PEFT build something other than W + (alpha/r)·BA (a PiSSA
    or OLoRA initialiser rewrites the shared base weights on load: production's and the base's answers
    would move when a staging adapter is loaded). The referee writes only canonical configs."""
    import json

    from tuneloop.lora_config import is_canonical, refusals

    config = json.loads((Path(adapter_dir) / "adapter_config.json").read_text(encoding="utf-8"))
    if not is_canonical(config, "dora" if config.get("use_dora") else "lora"):
        why = refusals(config, "dora" if config.get("use_dora") else "lora") or ["use_rslora=True (not canonical)"]
        raise ValueError(f"{adapter_dir}: not a canonical adapter config (judge it first): {'; '.join(why)}")


class PromptTooLong(ValueError):
    def __init__(self, tokens: int, limit: int):
        super().__init__(f"the prompt has {tokens} tokens; this server accepts at most {limit}")
        self.tokens, self.limit = tokens, limit


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # stop | length


class Engine:
    def __init__(self, base_dir: str | Path, system_prompt: str | None = None, max_prompt_tokens: int = 1536):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from tuneloop import hardware

        hw = hardware.detect()
        self.device = hw.device
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(hw.precision, torch.float32)
        self.base_dir = Path(base_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(self.base_dir)
        if not self.tokenizer.chat_template:
            raise ValueError(f"{base_dir}: the tokenizer has no chat template; the server only serves chat models")
        self.model = AutoModelForCausalLM.from_pretrained(self.base_dir, dtype=dtype).to(self.device).eval()
        self.peft = None  # the PeftModel wrapping self.model once an adapter is loaded
        self.adapters: dict[str, str] = {}  # DVC md5 -> PEFT adapter name
        self.lock = threading.Lock()
        self.system_prompt = system_prompt
        self.max_prompt_tokens = int(max_prompt_tokens)
        self.chat_template_sha = template_sha(self.tokenizer.chat_template)

    # --- adapters ----------------------------------------------------------------------------------
    def load(self, md5: str, path: str | Path) -> None:
        """Load an adapter folder under its md5 (a no-op when already loaded)."""
        from peft import PeftModel

        path = Path(path)
        if md5 in self.adapters:
            return
        self.check_template(path)
        check_canonical(path)  # a config that rewrites the base on load would change every other adapter too
        name = "a_" + md5.removesuffix(".dir")[:16]  # PEFT names are module keys: no dots
        with self.lock:
            if self.peft is None:
                self.peft = PeftModel.from_pretrained(self.model, str(path), adapter_name=name).eval()
            else:
                self.peft.load_adapter(str(path), adapter_name=name)
            self.adapters[md5] = name

    def unload(self, md5: str) -> None:
        with self.lock:
            name = self.adapters.pop(md5, None)
            if name and self.peft is not None and len(self.peft.peft_config) > 1:
                self.peft.delete_adapter(name)
            elif name:
                self.adapters[md5] = name  # PEFT keeps at least one adapter: leave it loaded, unused

    def check_template(self, adapter_dir: Path) -> None:
        """An adapter saved with a tokenizer must carry the base's chat template (same hash)."""
        from transformers import AutoTokenizer

        if not (adapter_dir / "tokenizer_config.json").exists():
            return
        saved = AutoTokenizer.from_pretrained(adapter_dir).chat_template
        if saved and template_sha(saved) != self.chat_template_sha:
            raise ValueError(
                f"{adapter_dir}: chat template sha256 {template_sha(saved)[:12]} differs from the "
                f"base's {self.chat_template_sha[:12]}; it was trained for another template"
            )

    def _select(self, adapter_md5: str | None):
        """(model, context) answering with one adapter, or the stock base (None); call under the lock."""
        import contextlib

        if adapter_md5 is not None and adapter_md5 not in self.adapters:
            raise KeyError(f"adapter {adapter_md5} is not loaded")
        if self.peft is not None and adapter_md5 is not None:
            self.peft.set_adapter(self.adapters[adapter_md5])
            return self.peft, contextlib.nullcontext()
        if self.peft is not None:
            return self.peft, self.peft.disable_adapter()  # the stock base, LoRA layers bypassed
        return self.model, contextlib.nullcontext()

    def label_probs(self, messages: list[dict[str, str]], choices: list[str], adapter_md5: str | None) -> list[float]:
        """The router's P(answer | classify prompt) over `choices`, with one adapter (tuneloop.route.LabelScorer:
        the code the harness scores the router with)."""
        import torch

        from tuneloop.route import LabelScorer, softmax

        with self.lock, torch.inference_mode():
            model, ctx = self._select(adapter_md5)
            if getattr(self, "_scorer", None) is None or self._scorer.model is not model:
                self._scorer = LabelScorer(model, self.tokenizer)
            with ctx:
                return softmax(self._scorer.logprobs(self.encode(messages), choices, key=adapter_md5))

    # --- generation --------------------------------------------------------------------------------
    def encode(self, messages: list[dict[str, str]]) -> list[int]:
        if self.system_prompt and not any(m["role"] == "system" for m in messages):
            messages = [{"role": "system", "content": self.system_prompt}, *messages]
        from tuneloop.route import chat_ids  # the harness's encoding (lm-eval's BOS rule), one copy of it

        ids = chat_ids(self.tokenizer, messages)
        if len(ids) > self.max_prompt_tokens:
            raise PromptTooLong(len(ids), self.max_prompt_tokens)
        return ids

    def generate(
        self,
        ids: list[int],
        adapter_md5: str | None,
        max_tokens: int,
        stop: list[str] | None = None,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Completion:

        import torch

        stop = [s for s in (stop or []) if s]
        kwargs: dict[str, Any] = {
            "max_new_tokens": int(max_tokens),
            "use_cache": True,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if temperature and temperature > 0:
            kwargs.update(do_sample=True, temperature=float(temperature))
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=stop, tokenizer=self.tokenizer)
        input_ids = torch.tensor([ids], device=self.device)
        with self.lock, torch.inference_mode():
            model, ctx = self._select(adapter_md5)
            if kwargs["do_sample"]:
                torch.manual_seed(0 if seed is None else int(seed))
            with ctx:
                out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **kwargs)
        new = out[0, len(ids) :].tolist()
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        cut = min((text.index(s) for s in stop if s in text), default=None)
        finish = (
            "stop"
            if cut is not None or (new and new[-1] == self.tokenizer.eos_token_id) or len(new) < max_tokens
            else "length"
        )
        return Completion(text if cut is None else text[:cut], len(ids), len(new), finish)
