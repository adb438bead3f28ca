"""The loop's commands besides the `drift` stage: `tuneloop feedback collect`, `retrain`, `simulate`.

The CLI (cli.py) adds these parsers and hands the parsed arguments here; nothing heavy is imported
until a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_parsers(sub) -> None:
    fb = sub.add_parser("feedback", help="production feedback -> reviewable training candidates")
    fc = fb.add_subparsers(dest="feedback_command", required=True).add_parser(
        "collect", help="agent edits and liked answers from the request log, for a person to approve")
    fc.add_argument("--log", default="reports/serve/requests.jsonl", help="the server's request log")
    fc.add_argument("--out", default=None, help="the candidates file (default: retrain.feedback.candidates)")
    rt = sub.add_parser("retrain", help="refresh -> drift -> policy -> a local branch with the new data version")
    rt.add_argument("--dry-run", action="store_true", help="decide only: no branch, no commit")
    rt.add_argument("--force", action="store_true", help="a new data version whatever the policy says")
    rt.add_argument("--branch", help="branch name (default: retrain.branch_prefix + today's date)")
    rt.add_argument("--weeks-since", type=float, help="weeks since the production adapter's data (default: git log of data.dvc)")
    rt.add_argument("--eval-adapter", help="score this adapter (the production one) on the fresh labelled data too")
    rt.add_argument("--push-data", action="store_true", help="dvc push the new data version (the workflow does)")
    rt.add_argument("--no-refresh", action="store_true", help="skip retrain.refresh (use data/fresh as it is)")
    sm = sub.add_parser("simulate", help="the drifting stream, with and without the loop (real training)")
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


def run(args: argparse.Namespace) -> int:
    from tuneloop.params import load_params

    params = load_params(args.params)
    try:
        if args.command == "feedback":
            from tuneloop.monitor import feedback

            out = args.out or params["retrain"]["feedback"]["candidates"]
            done = feedback.collect(args.log, out, list(params["data"].get("labels") or []))
            print(json.dumps(done, indent=2))
            print(f"next: review {out} (set approved: true/false, fix reply or category); `tuneloop retrain` brings the "
                  f"approved ones into {params['retrain']['feedback']['into']}")
        elif args.command == "retrain":
            from tuneloop.monitor import retrain

            done = retrain.run(params, dry_run=args.dry_run, force=args.force, branch=args.branch,
                               weeks_since=args.weeks_since, eval_adapter=args.eval_adapter,
                               push_data=args.push_data, refresh=not args.no_refresh)
            print(json.dumps(done, indent=2, default=str))
        else:
            from tuneloop.monitor import simulate

            done = simulate.run(params, base=args.base, out=args.out, weeks=args.weeks, start=args.start,
                                history=args.history, window=args.window, per_week=args.per_week,
                                eval_per_week=args.eval_per_week, cadence=args.cadence, seed=args.seed,
                                overrides=args.overrides)
            print(json.dumps(done["summary"], indent=2))
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        print(f"tuneloop {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0
