"""`tuneloop registry list|register|promote|rollback|stock`: GTO versions and stages of the adapter.

    tuneloop registry list [--json]                     versions with stage, verdict, key metrics, hashes
    tuneloop registry register --verdict referee.json   a version for the adapter dvc.lock records at HEAD
    tuneloop registry promote v3.0.0 --stage production   (refused without a passing verdict)
    tuneloop registry rollback | stock                  production back one version | the base alone

docs/registry.md. Versions are git tags: `--push` sends the new ones to origin.
"""

from __future__ import annotations

import json
import sys

COMMANDS = [
    ("registry list", "versions with stage, verdict, key metrics, data and base hashes"),
    ("registry register", "register the adapter dvc.lock records as a version (GTO tag)"),
    ("registry promote", "assign a version to staging or production (needs a passing verdict)"),
    ("registry rollback", "production back to the version before the current one"),
    ("registry stock", "no production version: the server answers with the base model"),
]


def add_parsers(sub) -> None:
    family = sub.add_parser("registry", description="the model registry (git tags, GTO)")
    verbs = family.add_subparsers(dest="registry_command", required=True, metavar="VERB")
    ls = verbs.add_parser("list", help=COMMANDS[0][1], description=COMMANDS[0][1])
    ls.add_argument("--json", action="store_true")
    rg = verbs.add_parser("register", help=COMMANDS[1][1], description=COMMANDS[1][1])
    rg.add_argument("--rev", default="HEAD", help="commit whose dvc.lock names the adapter")
    rg.add_argument("--verdict", help="the referee's verdict JSON, embedded in the tag (needed to change stage)")
    rg.add_argument("--lock", default="dvc.lock")
    pm = verbs.add_parser("promote", help=COMMANDS[2][1], description=COMMANDS[2][1])
    pm.add_argument("version", help="e.g. v3.0.0 (see `tuneloop registry list`)")
    pm.add_argument("--stage", required=True, choices=["staging", "production"])
    rb = verbs.add_parser("rollback", help=COMMANDS[3][1], description=COMMANDS[3][1])
    st = verbs.add_parser("stock", help=COMMANDS[4][1], description=COMMANDS[4][1])
    for verb in (rg, pm, rb, st):
        verb.add_argument("--push", action="store_true", help="push the new tags to origin")
    for verb in (ls, rg, pm, rb, st):
        verb.set_defaults(func=run)


def run(args) -> int:
    from tuneloop.registry.store import Registry, RegistryError

    verb = args.registry_command
    try:
        if verb == "register":
            from tuneloop.registry import tag_message

            verdict = None
            if args.verdict:
                with open(args.verdict, encoding="utf-8") as fh:
                    verdict = tag_message.parse(fh.read(), args.verdict)
            v = Registry().register(args.rev, verdict, args.lock, push=args.push)
            state = "missing" if v.verdict is None else "passed" if v.verdict["passed"] else "failed"
            print(f"registered {v.name} (adapter md5 {v.md5}, verdict: {state})")
        elif verb == "list":
            rows = Registry().table()
            print(json.dumps(rows, indent=2) if args.json else table(rows))
        else:
            reg = Registry()
            done = (
                reg.promote(args.version, args.stage, push=args.push)
                if verb == "promote"
                else getattr(reg, verb)(push=args.push)
            )
            now = done["version"] or "the stock base model"
            was = f" (was {done['previous']})" if done["previous"] else ""
            print(f"{verb}: {done['stage']} is now {now}{was}")
    except (RegistryError, ValueError, FileNotFoundError) as exc:
        print(f"tuneloop registry {verb}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def table(rows: list[dict]) -> str:
    lines = [
        "| version | stage | verdict | key metrics | adapter md5 | data md5 | base md5 | commit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        metrics = ", ".join(f"{k} {v}" for k, v in r["metrics"].items()) or "-"
        data = ", ".join(f"{k.split('/')[-1]} {str(v)[:8]}" for k, v in r["data_md5"].items()) or "-"
        lines.append(
            f"| {r['version']} | {r['stage']} | {r['verdict']} | {metrics} | {r['adapter_md5'][:12]} | "
            f"{data} | {str(r['base_md5'])[:12] or '-'} | {r['commit']} |"
        )
    return "\n".join(lines) if rows else "no versions registered yet (`tuneloop registry register --verdict FILE`)"
