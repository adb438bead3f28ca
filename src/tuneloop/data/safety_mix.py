"""The company's policy (conf/policy) as training text: the `safety` task and out-of-scope queries.

    safety_pairs(policy) -> [(family, prompt, answer)]     refusal, pii, escalation, hazard; seeded, no repeats
    out_of_scope_queries(policy) -> [query]                 policy.out_of_scope, {company}/{product} filled

Templates live in policy_templates.yaml (package data), written unlike the behavioural probes; the
contamination guard (tuneloop.evals.contamination) checks every training prompt against every probe.
Answers decline, never produce or guess personal data, and hand over to a human for what the policy
says a human must handle. Same policy, same examples (the seed is derived from the company's name).
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATES_FILE = Path(__file__).with_name("policy_templates.yaml")
# hazard: "is it safe to stay?" after a gas smell, a CO alarm, sparks: never reassure, get people out, hand
# over. Added after the default run's adapter answered "Yes, it is safe to stay inside" to a CO alarm.
FAMILIES = ("refusal", "pii", "escalation", "hazard")
_SLOT = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def templates() -> dict:
    return yaml.safe_load(TEMPLATES_FILE.read_text(encoding="utf-8"))


def check_policy(policy: dict[str, Any], where: str = "policy") -> None:
    """Clear errors for a conf/policy that cannot fill the templates."""
    if not str(policy.get("company") or "").strip():
        raise ValueError(f"{where}.company: the company's name is missing (conf/policy, or conf/suite it reads)")
    for key in ("products", "pii", "escalate"):
        value = policy.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(f"{where}.{key}: needs a non-empty list of strings, got {value!r}")
    unknown = [k for k in policy["pii"] if k not in templates()["pii_kinds"]]
    if unknown:
        raise ValueError(f"{where}.pii: unknown PII kind(s) {unknown}; known: {', '.join(templates()['pii_kinds'])}")
    oos = policy.get("out_of_scope") or []
    if not isinstance(oos, list) or not all(isinstance(q, str) and q.strip() for q in oos):
        raise ValueError(f"{where}.out_of_scope: needs a list of non-empty query strings, got {oos!r}")
    hazards = policy.get("hazards")
    if hazards is not None and (not isinstance(hazards, list) or not all(isinstance(h, str) and h for h in hazards)):
        raise ValueError(
            f"{where}.hazards: needs a list of strings (or none: the templates' defaults), got {hazards!r}"
        )
    families = policy.get("families")
    if families is not None and (not isinstance(families, list) or set(families) - set(FAMILIES)):
        raise ValueError(f"{where}.families: a list of {', '.join(FAMILIES)} (or none: all), got {families!r}")
    if int(policy.get("examples_per_family", 0)) < 0:
        raise ValueError(f"{where}.examples_per_family must be >= 0, got {policy.get('examples_per_family')}")


def _pools(policy: dict[str, Any]) -> dict[str, list[str]]:
    kinds = templates()["pii_kinds"]
    return {
        "company": [policy["company"]],
        "product": list(policy["products"]),
        "pii": [kinds[k][0] for k in policy["pii"]],
        "pii_plural": [kinds[k][1] for k in policy["pii"]],
        "topic": list(policy["escalate"]),
        "channel": [str(policy.get("channel") or "our support team")],
        "advice": [str(policy.get("advice") or "")],
        "hazard": list(policy.get("hazards") or templates()["hazards"]),
    }


def _fill(template: str, values: dict[str, str]) -> str:
    return " ".join(_SLOT.sub(lambda m: values[m.group(1)], template).split())


def safety_pairs(policy: dict[str, Any]) -> list[tuple[str, str, str]]:
    """[(family, prompt, answer)]: up to policy.examples_per_family distinct prompts per family, drawn
    round-robin over the family's prompt templates with seeded slot fills; the answer is one of the
    family's answer templates filled with the same values (so a PII decline names the PII asked for)."""
    check_policy(policy)
    per_family = int(policy.get("examples_per_family", 32))
    pools = _pools(policy)
    out: list[tuple[str, str, str]] = []
    for family in [f for f in FAMILIES if f in (policy.get("families") or FAMILIES)]:
        spec = templates()["families"][family]
        rng = random.Random(f"safety:{family}:{policy['company']}")
        seen: set[str] = set()
        made: list[tuple[str, str, str]] = []
        for _ in range(50):  # passes over the templates, each tries one fresh fill per template
            for template in spec["prompts"]:
                if len(made) >= per_family:
                    break
                pick = rng.randrange(len(pools["pii"]))
                # hazards are drawn only for their family: the other families' fills (and examples) stay as they were
                values = {k: rng.choice(v) for k, v in pools.items() if k != "hazard"}
                if family == "hazard":
                    values["hazard"] = rng.choice(pools["hazard"])
                values |= {"pii": pools["pii"][pick], "pii_plural": pools["pii_plural"][pick]}
                prompt = _fill(template, values)
                if prompt in seen:
                    continue
                seen.add(prompt)
                made.append((family, prompt, _fill(rng.choice(spec["answers"]), values)))
        out += made
    return out


def out_of_scope_queries(policy: dict[str, Any]) -> list[str]:
    """policy.out_of_scope, {company} and {product} filled (the first product), duplicates dropped."""
    values = {"company": policy.get("company") or "", "product": (policy.get("products") or [""])[0]}
    queries = [_fill(q, values) for q in policy.get("out_of_scope") or []]
    return list(dict.fromkeys(queries))
