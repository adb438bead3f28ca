"""An adapter's classification accuracy on labelled tickets, as the harness scores it.

    scorer = Scorer("models/base", Contract.from_params(params))
    scorer.accuracy("models/adapter", rows, labels)   # rows: {"text", "category", "subject"?}

The prompt is the training prompt, rendered by the prompt contract (tuneloop.prompts: data.system_prompt,
the classify instruction over the adapter's own label set with data.max_listed_labels and the
out-of-scope line, the ticket text); decoding is greedy, at most 8 new tokens, a prompt that starts with BOS is
encoded without special tokens (lm-eval's rule, which the evaluate stage and the server follow); the
answer is matched to the label set by evals.metrics.parse_label, so an answer naming no label, or a label
the adapter was never given, is wrong. Generation is batched (left padding) for speed on CPU.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tuneloop.data.synth import label_answer_tokens
from tuneloop.evals.metrics import parse_label
from tuneloop.prompts import Contract, ticket_text


class Scorer:
    def __init__(
        self, base_dir: str | Path, contract: Contract | str, batch_size: int = 16, max_new_tokens: int | None = None
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(base_dir)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
        self.peft = None
        self.loaded: dict[str, str] = {}
        # None: the cap follows the labels (synth.label_answer_tokens), as in evaluate; a number overrides it
        self.contract = contract if isinstance(contract, Contract) else Contract(system=contract)
        self.batch_size, self.max_new_tokens = batch_size, max_new_tokens

    def for_labels(self, labels: list[str]) -> Contract:
        """The contract with an adapter's own label set (a simulated adapter may know other labels)."""
        return dataclasses.replace(self.contract, labels=tuple(labels))

    def _use(self, adapter: str | Path | None):
        if adapter is None:
            return self.peft.disable_adapter() if self.peft is not None else _null()
        from peft import PeftModel

        key = str(Path(adapter).resolve())
        if key not in self.loaded:
            name = f"a{len(self.loaded)}"
            if self.peft is None:
                self.peft = PeftModel.from_pretrained(self.model, key, adapter_name=name).eval()
            else:
                self.peft.load_adapter(key, adapter_name=name)
            self.loaded[key] = name
        self.peft.set_adapter(self.loaded[key])
        return _null()

    def prompts(self, texts: list[str], labels: list[str]) -> list[str]:
        """The chat-templated classify prompts (the prompt contract's, over the adapter's label set)."""
        contract = self.for_labels(labels)
        return [
            self.tokenizer.apply_chat_template(
                contract.messages(contract.classify(text)), tokenize=False, add_generation_prompt=True
            )
            for text in texts
        ]

    def predict(self, adapter: str | Path | None, texts: list[str], labels: list[str]) -> list[str]:
        import torch

        contract = self.for_labels(labels)
        prompts = self.prompts(texts, labels)
        bos = self.tokenizer.bos_token
        special = not (bos and prompts and prompts[0].startswith(bos))
        outs: list[str] = []
        with self._use(adapter), torch.inference_mode():
            model = self.peft if self.peft is not None else self.model
            for i in range(0, len(prompts), self.batch_size):
                enc = self.tokenizer(
                    prompts[i : i + self.batch_size], return_tensors="pt", padding=True, add_special_tokens=special
                )
                gen = model.generate(
                    **enc,
                    max_new_tokens=self.max_new_tokens or label_answer_tokens(self.tokenizer, contract.choices),
                    do_sample=False,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
                outs += self.tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        return outs

    def accuracy(
        self, adapter: str | Path | None, rows: list[dict], labels: list[str], with_items: bool = False
    ) -> dict[str, Any]:
        """{"accuracy", "n", "correct"}; with_items adds "items", 1/0 per row (for a paired comparison)."""
        texts = [ticket_text({"subject": r.get("subject"), "customer_message": r["text"]}) for r in rows]
        outs = self.predict(adapter, texts, labels)
        choices = self.for_labels(labels).choices  # an out-of-scope answer to a labelled ticket is wrong
        correct = [
            parse_label(o, choices) >= 0 and choices[parse_label(o, choices)] == r["category"]
            for o, r in zip(outs, rows)
        ]
        res = {
            "accuracy": round(sum(correct) / len(rows), 4) if rows else None,
            "n": len(rows),
            "correct": sum(correct),
        }
        return {**res, "items": [int(c) for c in correct]} if with_items else res


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def classify_rule(params: dict[str, Any], kind: str) -> float | None:
    """The gate's value of one rule kind ("min", "non_inferior") on classification accuracy; None: no such rule."""
    return next(
        (r[kind] for r in params["gate"]["rules"] if r.get("metric") == "tuneloop_classify.acc" and kind in r), None
    )


def fresh_accuracy(
    params: dict[str, Any],
    adapter: str | Path,
    snapshot: str | Path,
    base: str | Path = "models/base",
    limit: int = 200,
) -> dict[str, Any]:
    """The production adapter's accuracy on a fresh snapshot's labelled tickets, and the gate's floor."""
    from tuneloop.monitor.sources import snapshot_rows

    labels = list(params["data"]["labels"])
    rows, _ = snapshot_rows(params["data"], snapshot, dict(params["retrain"]["products"]))
    rows = [r for r in rows if r["category"]][:limit]
    res = Scorer(base, Contract.from_params(params)).accuracy(adapter, rows, labels)
    return {**res, "floor": classify_rule(params, "min"), "adapter": str(adapter)}
