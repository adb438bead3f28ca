"""`tuneloop monitor drift|feedback|retrain|simulate|rollout`: the loop that keeps the adapter fresh (docs/loop.md).

tuneloop monitor drift [--current DIR] [--log FILE]   fresh data vs the training split -> reports/drift/ (a stage)
tuneloop monitor feedback [--log FILE] [--out FILE]   reviewable training candidates from production feedback
tuneloop monitor retrain [--dry-run] [--force]        refresh -> drift -> policy -> a branch with the new data
tuneloop monitor simulate [--weeks 24] ...            the drifting stream, with and without the loop
tuneloop monitor rollout [--log FILE]                 canary/shadow arms compared from the request log
"""

from __future__ import annotations

import json

from tuneloop.cli._common import guarded, params, show
from tuneloop.cli.stages import run_stage

COMMANDS = [
    ("monitor drift", "fresh data and requests vs the training split (a stage) -> reports/drift/"),
    ("monitor feedback", "production feedback -> reviewable training candidates"),
    ("monitor retrain", "refresh -> drift -> policy -> a local branch with the new data version"),
    ("monitor simulate", "the drifting stream, with and without the loop (real training)"),
    ("monitor rollout", "canary/shadow arms compared from the request log"),
]


def add_parsers(sub) -> None:
    family = sub.add_parser("monitor", description="the loop: drift, feedback, retraining, rollouts")
    verbs = family.add_subparsers(dest="monitor_command", required=True, metavar="VERB")
    dr = verbs.add_parser("drift", help=COMMANDS[0][1], description=COMMANDS[0][1])
    dr.add_argument("--current", help="a fresh snapshot laid out like data/raw (default: retrain.current)")
    dr.add_argument("--log", help="the server's request log (default: retrain.log, when it exists)")
    dr.set_defaults(func=lambda args: run_stage(args, name="drift", current=args.current, log_file=args.log))
    fb = verbs.add_parser("feedback", help=COMMANDS[1][1], description=COMMANDS[1][1])
    fb.add_argument("--log", default="reports/serve/requests.jsonl", help="the server's request log")
    fb.add_argument("--out", default=None, help="the candidates file (default: retrain.feedback.candidates)")
    fb.set_defaults(func=lambda args: guarded("monitor feedback", lambda: _feedback(args)))
    rt = verbs.add_parser("retrain", help=COMMANDS[2][1], description=COMMANDS[2][1])
    rt.add_argument("--dry-run", action="store_true", help="decide only: no branch, no commit")
    rt.add_argument("--force", action="store_true", help="a new data version whatever the policy says")
    rt.add_argument("--branch", help="branch name (default: retrain.branch_prefix + today's date)")
    rt.add_argument("--weeks-since", type=float, help="weeks since the production adapter's data (default: git log)")
    rt.add_argument("--eval-adapter", help="score this adapter (the production one) on the fresh labelled data too")
    rt.add_argument("--push-data", action="store_true", help="dvc push the new data version (the workflow does)")
    rt.add_argument("--no-refresh", action="store_true", help="skip retrain.refresh (use data/fresh as it is)")
    rt.set_defaults(func=lambda args: guarded("monitor retrain", lambda: _retrain(args)))
    sm = verbs.add_parser("simulate", help=COMMANDS[3][1], description=COMMANDS[3][1])
    sm.add_argument("--base", default="models/base", help="base model folder")
    sm.add_argument("--out", default="reports/simulation", help="where result.json, the plot and the adapters go")
    sm.add_argument("--weeks", type=int, default=24, help="weeks simulated (from --start)")
    sm.add_argument("--start", type=int, default=0, help="first simulated week of the stream")
    sm.add_argument("--history", type=int, default=6, help="weeks of tickets the first adapter trains on")
    sm.add_argument("--window", type=int, default=8, help="weeks of tickets a retrain trains on")
    sm.add_argument("--per-week", type=int, default=60, help="tickets arriving per week")
    sm.add_argument("--eval-per-week", type=int, default=48, help="of them, scored each week (both arms)")
    sm.add_argument("--cadence", type=float, help="weeks between scheduled retrains (default: retrain.policy)")
    sm.add_argument("--seed", type=int, default=0)
    sm.add_argument("overrides", nargs="*", help="Hydra overrides for the training runs, e.g. preset.epochs=2")
    sm.set_defaults(func=lambda args: guarded("monitor simulate", lambda: _simulate(args)))
    ro = verbs.add_parser("rollout", help=COMMANDS[4][1], description=COMMANDS[4][1])
    ro.add_argument("--log", default="reports/serve/requests.jsonl")
    ro.add_argument("--json", action="store_true")
    ro.set_defaults(func=lambda args: guarded("monitor rollout", lambda: _rollout(args)))


def _feedback(args) -> int:
    from tuneloop.monitor import feedback

    cfg = params(args)
    out = args.out or cfg["retrain"]["feedback"]["candidates"]
    show(feedback.collect(args.log, out, list(cfg["data"].get("labels") or [])))
    print(
        f"next: review {out} (set approved: true/false, fix reply or category); `tuneloop monitor retrain` brings "
        f"the approved ones into {cfg['retrain']['feedback']['into']}"
    )
    return 0


def _retrain(args) -> int:
    from tuneloop.monitor import retrain

    done = retrain.run(
        params(args),
        dry_run=args.dry_run,
        force=args.force,
        branch=args.branch,
        weeks_since=args.weeks_since,
        eval_adapter=args.eval_adapter,
        push_data=args.push_data,
        refresh=not args.no_refresh,
    )
    show(done)
    return 0


def _simulate(args) -> int:
    from tuneloop.monitor import simulate

    done = simulate.run(
        params(args),
        base=args.base,
        out=args.out,
        weeks=args.weeks,
        start=args.start,
        history=args.history,
        window=args.window,
        per_week=args.per_week,
        eval_per_week=args.eval_per_week,
        cadence=args.cadence,
        seed=args.seed,
        overrides=args.overrides,
    )
    print(json.dumps(done["summary"], indent=2))
    return 0


def _rollout(args) -> int:
    from tuneloop.serve import rollout

    rep = rollout.report(args.log)
    print(json.dumps(rep, indent=2) if args.json else rollout.render(rep))
    return 0
