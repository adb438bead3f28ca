"""Fit examples into max_length by cutting the prompt, never the completion (the answer is what is learned).

TRL truncates a tokenized example from the right: a long prompt pushes the completion out, and an
example with no completion token left trains on nothing (or crashes the collator). So before training,
each example is measured with the base's chat template exactly as TRL renders it (prompt with the
generation prompt, then prompt + completion), and one that is too long is cut on the prompt side:
  1. a chat's earliest history turns go first (the turns nearest the answer stay);
  2. then the content of the last user message is cut from its end, keeping its instruction (the text
     before the first blank line) and the beginning of the customer's text.
An example whose completion alone does not fit is dropped and counted ("completion_too_long").
"""

from __future__ import annotations

from typing import Any

from tuneloop.prompts import HISTORY_END, HISTORY_HEAD, PASSAGES_END, PASSAGES_HEAD, SEPARATOR  # the contract's layout

MARKER = " [...]"  # appended where a prompt was cut, so the model sees the text does not end there


def _ids(tokenizer, messages: list[dict], generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, tokenize=True)
    return list(out["input_ids"] if hasattr(out, "keys") else out)


def example_length(tokenizer, prompt: list[dict], completion: list[dict]) -> tuple[int, int]:
    """(total tokens, completion tokens) of one prompt/completion example, as TRL tokenizes it."""
    prompt_len = len(_ids(tokenizer, prompt, True))
    total = len(_ids(tokenizer, prompt + completion, False))
    return total, total - prompt_len


def _cut_content(tokenizer, text: str, drop_tokens: int) -> str | None:
    """text without its last `drop_tokens` tokens of content (the instruction before SEPARATOR stays); a
    grounded prompt loses the end of its passages block instead, so the question after it stays whole."""
    head, sep, body = text.partition(SEPARATOR)
    if not sep:
        head, body = "", text
    # the first context block (passages, else a returning customer's earlier tickets) gives way first
    for block_head, block_end in ((PASSAGES_HEAD, PASSAGES_END), (HISTORY_HEAD, HISTORY_END)):
        end = "\n" + block_end
        if body.startswith(block_head) and end in body:
            block, rest = body.split(end, 1)
            ids = tokenizer(block, add_special_tokens=False)["input_ids"]
            floor = len(tokenizer(block_head, add_special_tokens=False)["input_ids"])
            keep = len(ids) - drop_tokens - len(tokenizer(MARKER, add_special_tokens=False)["input_ids"])
            if keep > floor:
                return head + sep + tokenizer.decode(ids[:keep]).rstrip() + MARKER + end + rest
    ids = tokenizer(body, add_special_tokens=False)["input_ids"]
    keep = len(ids) - drop_tokens - len(tokenizer(MARKER, add_special_tokens=False)["input_ids"])
    if keep <= 0:
        return None
    return head + sep + tokenizer.decode(ids[:keep]).rstrip() + MARKER


def fit_example(tokenizer, prompt: list[dict], completion: list[dict], max_length: int) -> list[dict] | None:
    """The prompt, cut so that prompt + completion fits max_length; None if the completion cannot fit."""
    prompt = [dict(m) for m in prompt]
    for _ in range(8):  # each pass removes at least the measured excess; decode/re-encode may shift a token
        total, _completion = example_length(tokenizer, prompt, completion)
        excess = total - max_length
        if excess <= 0:
            return prompt
        history = [i for i, m in enumerate(prompt[:-1]) if m["role"] != "system"]
        if history:  # drop the oldest turn of a chat first
            del prompt[history[0]]
            continue
        cut = _cut_content(tokenizer, prompt[-1]["content"], excess)
        if cut is None:
            return None
        prompt[-1]["content"] = cut
    return None


def fit_rows(rows: list[dict[str, Any]], tokenizer, max_length: int) -> tuple[list[dict[str, Any]], dict]:
    """Every row fitted (rows that cannot fit dropped); counts of what was done, per task."""
    out, stats = [], {"prompt_cut": 0, "dropped_completion_too_long": 0, "by_task": {}}
    for row in rows:
        per_task = stats["by_task"].setdefault(row.get("task", "?"), {"prompt_cut": 0, "dropped": 0})
        total, _ = example_length(tokenizer, row["prompt"], row["completion"])
        if total <= max_length:
            out.append(row)
            continue
        prompt = fit_example(tokenizer, row["prompt"], row["completion"], max_length)
        if prompt is None:
            stats["dropped_completion_too_long"] += 1
            per_task["dropped"] += 1
            continue
        stats["prompt_cut"] += 1
        per_task["prompt_cut"] += 1
        out.append({**row, "prompt": prompt})
    stats["by_task"] = {t: v for t, v in sorted(stats["by_task"].items()) if v["prompt_cut"] or v["dropped"]}
    return out, stats
