"""The corpus text, read once per process from the data files next to this module.

Every loader is cached, and sequences come back as tuples so that nothing drawn from them can be changed in
place. Order is kept exactly as written: the generator draws by position, so the order of a list decides
which entry a seed produces.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from tuneloop.data.example.mix import CATEGORIES, DRIFT_CATEGORIES, PRIORITY_WEIGHTS

DATA_DIR = Path(__file__).resolve().parent
KB_DIR = DATA_DIR / "kb"
# kb/*.md open with an HTML comment for whoever edits them; it is not part of the article.
_LEADING_COMMENT = re.compile(r"\A<!--.*?-->\s*", re.DOTALL)
_SITUATION_KEYS = {"priority", "subjects", "bodies", "replies", "asks", "followups"}


def _freeze(value: Any) -> Any:
    """Lists become tuples, at any depth; mappings keep their order."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return {k: _freeze(v) for k, v in value.items()}
    return value


@functools.cache
def _load(relative_path: str) -> Any:
    path = DATA_DIR / relative_path
    return _freeze(yaml.safe_load(path.read_text(encoding="utf-8")))


def _require_strings(where: str, values) -> None:
    """YAML turns unquoted 10, 4.10 or no into numbers and booleans; the corpus needs the text as written."""
    odd = [v for v in values if not isinstance(v, str)]
    if odd:
        raise TypeError(f"{where}: expected text, got {odd!r} (quote these values)")


@functools.cache
def facts() -> dict[str, str]:
    """Company facts (facts.yaml): policy numbers quoted by agents and by the KB articles."""
    data = _load("facts.yaml")
    _require_strings("facts.yaml", data.values())
    return data


@functools.cache
def vocab() -> SimpleNamespace:
    """Products, devices, places and agents (vocab.yaml); products as (name, noun, price) plus their weights."""
    data = dict(_load("vocab.yaml"))
    products = data.pop("products")
    _require_strings("vocab.yaml app_versions", data["app_versions"])
    return SimpleNamespace(
        products=tuple((p["name"], p["noun"], p["price"]) for p in products),
        product_weights=tuple(p["weight"] for p in products),
        **data,
    )


@functools.cache
def people() -> SimpleNamespace:
    """Names, email domains, area codes, streets and cities (people.yaml)."""
    data = _load("people.yaml")
    _require_strings("people.yaml area_codes", data["area_codes"])
    _require_strings("people.yaml cities", [zip_prefix for _, _, zip_prefix in data["cities"]])
    return SimpleNamespace(**data)


@functools.cache
def templates() -> SimpleNamespace:
    """Greetings, sign-offs, tone lines, near-duplicate edits, typos and unusable-line texts (templates.yaml)."""
    return SimpleNamespace(**_load("templates.yaml"))


@functools.cache
def returning_texts() -> SimpleNamespace:
    """Subjects, messages and replies of returning customers' follow-up tickets (returning.yaml)."""
    return SimpleNamespace(**_load("returning.yaml"))


@functools.cache
def pii_templates() -> SimpleNamespace:
    """Sentences carrying planted PII and the agent's echoes of it, by PII kind (pii.yaml)."""
    return SimpleNamespace(**_load("pii.yaml"))


def _situation(category: str, index: int, raw: dict) -> dict:
    unknown = set(raw) - _SITUATION_KEYS
    missing = {"priority", "subjects", "bodies", "replies"} - set(raw)
    if unknown or missing or raw["priority"] not in PRIORITY_WEIGHTS:
        raise ValueError(
            f"situations/{category}.yaml, situation {index + 1}: unknown keys {sorted(unknown)}, "
            f"missing {sorted(missing)}, priority {raw.get('priority')!r}"
        )
    # asks and followups are optional; an empty tuple sends the builders to the category-wide defaults
    return {
        "subjects": raw["subjects"],
        "bodies": raw["bodies"],
        "replies": raw["replies"],
        "asks": raw.get("asks", ()),
        "followups": raw.get("followups", ()),
        "priority": raw["priority"],
    }


@functools.cache
def category(name: str) -> SimpleNamespace:
    """One category's situations and its context, default_asks, acks and default_followups sentences."""
    if name not in CATEGORIES + DRIFT_CATEGORIES:
        raise KeyError(f"unknown category {name!r}")
    data = dict(_load(f"situations/{name}.yaml"))
    data["situations"] = tuple(_situation(name, i, s) for i, s in enumerate(data["situations"]))
    return SimpleNamespace(**data)


@functools.cache
def drift_events() -> dict[str, Any]:
    """The drifting stream's events (drift.yaml): new product, renamed plan, new policy."""
    return _load("drift.yaml")


@functools.cache
def kb_articles() -> dict[str, str]:
    """Article slug -> Markdown template ({fact} placeholders unfilled), by slug."""
    return {
        path.stem: _LEADING_COMMENT.sub("", path.read_text(encoding="utf-8"), count=1)
        for path in sorted(KB_DIR.glob("*.md"), key=lambda p: p.stem)
    }
