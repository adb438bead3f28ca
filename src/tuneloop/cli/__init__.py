"""The `tuneloop` command: the pipeline's stages at the top level, everything else grouped under a noun.

    tuneloop --help                      the families below, one screen
    tuneloop prepare                     a stage, as dvc.yaml runs it (reads params.yaml in the current folder)
    tuneloop registry promote v3.0.0 --stage production

One module per family adds its own parsers (the style of torchtune's `tune`); this file is the table of
families and the old flat names, which keep working for one release with a deprecation line.
"""

from __future__ import annotations

import argparse
import logging
import sys

from tuneloop.cli import data, monitor, pr, registry, serve, stages, suite

# family -> its module; the order is the help screen's
FAMILIES = {
    "stages (what dvc.yaml runs)": stages,
    "data": data,
    "suite": suite,
    "pr (the pull request: comment, referee)": pr,
    "registry (after the merge)": registry,
    "serve, export": serve,
    "monitor (the loop)": monitor,
}
STAGE_MODULES = stages.STAGE_MODULES  # stage -> module (tests/test_layout.py: only the CLI imports stages)
STAGES = tuple(STAGE_MODULES)

# the flat names of release 0.1 -> the new words (removed in the next release)
DEPRECATED = {
    "freeze": ["suite", "freeze"],
    "register": ["registry", "register"],
    "promote": ["registry", "promote"],
    "rollback": ["registry", "rollback"],
    "stock": ["registry", "stock"],
    "report": ["pr", "report"],
    "publish": ["pr", "publish"],
    "referee": ["pr", "referee"],
    "drift": ["monitor", "drift"],
    "feedback": ["monitor", "feedback"],
    "retrain": ["monitor", "retrain"],
    "simulate": ["monitor", "simulate"],
    "rollout": ["monitor", "rollout"],
    "example-corpus": ["data", "example"],
    "general-slice": ["data", "general-slice"],
}
_DROPPED_WORDS = {"report": "--pr", "feedback": "collect", "rollout": "report"}  # words the new forms do without


def translate(argv: list[str]) -> tuple[list[str], str | None]:
    """Old flat command lines -> new ones, and the deprecation line to print (None for a current name)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):  # global options (--params FILE) come first
        i += 1 if "=" in argv[i] or argv[i] in ("-h", "--help") else 2
    if i >= len(argv):
        return argv, None
    old, rest = argv[i], argv[i + 1 :]
    if old == "registry" and (not rest or rest[0].startswith("-")) and not {"-h", "--help"} & set(rest):
        new = ["registry", "list"]
    elif old in DEPRECATED:
        new = DEPRECATED[old]
        dropped = _DROPPED_WORDS.get(old)
        if dropped and dropped in rest:
            rest = [w for w in rest if w != dropped] if dropped == "--pr" else rest[rest.index(dropped) + 1 :]
    else:
        return argv, None
    line = f"tuneloop {old}: deprecated, use `tuneloop {' '.join(new)}` (the old name goes in the next release)"
    return [*argv[:i], *new, *rest], line


def build_parser() -> argparse.ArgumentParser:
    table = []
    for title, module in FAMILIES.items():
        table.append(f"{title}:")
        table += [f"  {name:<22} {what}" for name, what in module.COMMANDS]
    parser = argparse.ArgumentParser(
        prog="tuneloop",
        description="Turn a support corpus into a domain-tuned LLM, gated by an eval harness.",
        epilog="\n".join(table) + "\n`tuneloop COMMAND -h` for a command's options; README.md for the two commands.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--params", default="params.yaml", help="parameters file (default: params.yaml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in FAMILIES.values():
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv, deprecation = translate(list(sys.argv[1:] if argv is None else argv))
    if deprecation:
        print(deprecation, file=sys.stderr)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
