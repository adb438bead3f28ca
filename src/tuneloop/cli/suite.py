"""`tuneloop suite init|freeze`: a company's own frozen eval suite (docs/eval-harness.md).

tuneloop suite init        # after `dvc repro split`: regression set, probes, gate file, suite.lock
tuneloop suite freeze      # re-freeze evals/suite.lock after a deliberate, reviewed change
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneloop.cli._common import guarded, params

COMMANDS = [
    ("suite init", "the company's regression set, probes and gate from its held-out split"),
    ("suite freeze", "re-freeze the suite's hashes (evals/suite.lock), loudly"),
]


def add_parsers(sub) -> None:
    family = sub.add_parser("suite", description="a company's own frozen eval suite")
    verbs = family.add_subparsers(dest="suite_command", required=True, metavar="VERB")
    si = verbs.add_parser(
        "init",
        help=COMMANDS[0][1],
        description="draw the regression set from the held-out split, render the probes from conf/suite, "
        "write conf/gate/<data.name>.yaml, freeze (run after `dvc repro split`)",
    )
    si.add_argument("--seed", type=int, default=None, help="seed of the draw (default: params.yaml seed)")
    si.add_argument("--per-label", type=int, default=None, help="classify cases per label (default: suite.per_label)")
    si.add_argument(
        "--plant-canaries",
        action="store_true",
        help="generate company-specific canary PII and write it into data/raw/canaries.jsonl",
    )
    si.add_argument("--force", action="store_true", help="replace your own company's existing suite (lists changes)")
    si.add_argument("--out", default="evals", help="folder for regression/, probes/ and suite.lock (default: evals)")
    si.set_defaults(func=_init)
    fr = verbs.add_parser("freeze", help=COMMANDS[1][1], description=COMMANDS[1][1])
    fr.set_defaults(func=_freeze)


def _freeze(args) -> int:
    from tuneloop.evals import suite

    suite.freeze()
    return 0


def _init(args) -> int:
    from tuneloop.evals import suite_init

    done = guarded(
        "suite init",
        lambda: suite_init.init_suite(
            params(args),
            suite_init.TEST_FILE,
            Path(args.out),
            seed=args.seed,
            per_label=args.per_label,
            plant_canaries=args.plant_canaries,
            force=args.force,
        ),
    )
    if not isinstance(done, dict):
        return done
    print(json.dumps(done, indent=2))
    print(
        f"\nnext: review {done['out']}/regression, {done['out']}/probes and {done['gate']['file']}; select the gate "
        f"with `dvc exp run -S {done['gate']['select']}` (or `tuneloop params {done['gate']['select']}`); "
        f"commit them with {done['lock']}."
    )
    if done["canaries"]["planted"]:
        print(
            f"canaries planted in {done['canaries']['planted']}: add to conf/data/<name>.yaml `sources:`\n"
            f"  - {done['canaries']['source_entry']}\nand to conf/eval "
            f"`canaries: {json.dumps(done['canaries']['values'])}`, then `dvc commit data.dvc` and `dvc repro` "
            "(redaction must remove them before the split)."
        )
    return 0
