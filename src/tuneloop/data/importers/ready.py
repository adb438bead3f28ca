"""Ready-made training data: instruction JSONL, chat JSONL (OpenAI fine-tuning format), classification CSV.

instruction_jsonl   {"prompt": ..., "completion": ...} per line (fields renamed with mapping.prompt_field /
                    completion_field); Alpaca-style {"instruction", "input", "output"} is read too.
chat_jsonl          {"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}: at least one
                    user and one assistant message with text; other roles (tool, function) and tool calls
                    are quarantined (invalid_message), since tuneloop trains text replies only.
classification_csv  columns text,label (mapping.text_field / label_field; mapping.category_map renames labels).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import Item, bad, good, iter_json_records, provenance
from tuneloop.data.importers.fields import has_words
from tuneloop.data.importers.tabular import iter_csv_rows

CHAT_ROLES = ("system", "user", "assistant")


def _record_id(path: Path, record: dict, locator) -> str:
    rid = record.get("id")
    return (
        str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid) else f"{path.name}:{locator}"
    )


def read_instruction(path: Path, mapping: dict) -> Iterator[Item]:
    prompt_field = mapping.get("prompt_field") or "prompt"
    completion_field = mapping.get("completion_field") or "completion"
    for locator, raw, record, error in iter_json_records(path, mapping, list_keys=("data", "examples")):
        if error is None:
            if prompt_field not in record and "instruction" in record:  # Alpaca
                extra = record.get("input")
                prompt = (
                    record["instruction"] + (f"\n\n{extra}" if isinstance(extra, str) and extra.strip() else "")
                    if isinstance(record["instruction"], str)
                    else record["instruction"]
                )
                completion = record.get("output")
                fields = ("instruction", "output")
            else:
                prompt, completion = record.get(prompt_field), record.get(completion_field)
                fields = (prompt_field, completion_field)
            error = _text_error(fields, (prompt, completion))
            if error is None:
                yield good(
                    locator,
                    {
                        **provenance(
                            path, locator, "instruction_jsonl", _record_id(path, record, locator), "instruction"
                        ),
                        "prompt": prompt.strip(),
                        "completion": completion.strip(),
                    },
                    raw,
                )
                continue
        yield bad(locator, error, raw)


def _text_error(names: tuple[str, ...], values: tuple) -> str | None:
    for name, value in zip(names, values):
        if value is None:
            return f"missing_field: {name!r}"
        if not isinstance(value, str):
            return f"not_text: field {name!r} is {type(value).__name__}"
        if not has_words(value):
            return f"no_text: field {name!r} is empty or has no words"
    return None


def read_chat(path: Path, mapping: dict) -> Iterator[Item]:
    for locator, raw, record, error in iter_json_records(path, mapping, list_keys=("data", "conversations")):
        if error is None:
            messages, error = _messages(record.get("messages"))
            if error is None:
                yield good(
                    locator,
                    {
                        **provenance(path, locator, "chat_jsonl", _record_id(path, record, locator), "chat"),
                        "messages": messages,
                    },
                    raw,
                )
                continue
        yield bad(locator, error, raw)


def _messages(messages) -> tuple[list | None, str | None]:
    if messages is None:
        return None, "missing_field: 'messages'"
    if not isinstance(messages, list) or not messages:
        return None, "invalid_message: 'messages' must be a non-empty list"
    out = []
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            return None, f"invalid_message: message {number} is not an object"
        role, content = message.get("role"), message.get("content")
        if role not in CHAT_ROLES:
            return None, f"invalid_role: message {number} has role {role!r} (allowed: {', '.join(CHAT_ROLES)})"
        if message.get("tool_calls") or message.get("function_call"):
            return None, f"invalid_message: message {number} has tool calls (not supported)"
        if not isinstance(content, str):
            return None, f"invalid_message: message {number} content is {type(content).__name__}, not text"
        out.append({"role": role, "content": content.strip()})
    roles = [m["role"] for m in out]
    if "user" not in roles or "assistant" not in roles:
        return None, "invalid_message: needs at least one user and one assistant message"
    if not any(has_words(m["content"]) for m in out if m["role"] == "assistant"):
        return None, "no_text: no assistant message has words"
    return out, None


def read_classification(path: Path, mapping: dict) -> Iterator[Item]:
    text_field = mapping.get("text_field") or "text"
    label_field = mapping.get("label_field") or "label"
    label_map = {str(k): v for k, v in (mapping.get("category_map") or {}).items()}
    for locator, raw, row, error in iter_csv_rows(path, mapping, required=(text_field, label_field)):
        if error is None:
            text, label = row[text_field].strip(), row[label_field].strip()
            label = label_map.get(label, label)
            if not has_words(text):
                error = f"no_text: field {text_field!r} is empty or has no words"
            elif not label:
                error = f"missing_field: {label_field!r} is empty"
            else:
                yield good(
                    locator,
                    {
                        **provenance(path, locator, "classification_csv", f"{path.name}:{locator}", "labelled_text"),
                        "text": text,
                        "label": label,
                    },
                    raw,
                )
                continue
        yield bad(locator, error, raw)
