"""`tuneloop data example|general-slice`: the example company's corpus and the forgetting check's slice.

tuneloop data example --out data/raw                     # regenerate the embedded example corpus
tuneloop data example --out data/fresh --weeks 17-20     # a snapshot of its drifting stream (docs/loop.md)
tuneloop data general-slice --limit 200                  # fetch the HellaSwag slice ONCE (online), then dvc add
"""

from __future__ import annotations

from tuneloop.cli._common import show

COMMANDS = [
    ("data example", "write the example company's corpus (or --weeks: its drifting stream)"),
    ("data general-slice", "fetch the forgetting check's HellaSwag slice once (needs the hub)"),
]


def add_parsers(sub) -> None:
    family = sub.add_parser("data", description="the example corpus and the forgetting check's slice")
    verbs = family.add_subparsers(dest="data_command", required=True, metavar="VERB")
    ec = verbs.add_parser("example", help=COMMANDS[0][1], description=COMMANDS[0][1])
    ec.add_argument("--out", default="data/raw")
    ec.add_argument("--n-tickets", type=int, default=720)
    ec.add_argument("--seed", type=int, default=1234)
    ec.add_argument("--weeks", help="FIRST-LAST: a snapshot of the drifting stream instead (e.g. 17-20)")
    ec.add_argument("--per-week", type=int, default=75, help="tickets per week of the stream (with --weeks)")
    ec.set_defaults(func=_example)
    gs = verbs.add_parser(
        "general-slice",
        help=COMMANDS[1][1],
        description="fetch the forgetting check's HellaSwag slice ONCE (needs the hub), then version it: "
        "dvc add data/general/hellaswag.jsonl && dvc push",
    )
    gs.add_argument("--limit", type=int, default=200)
    gs.add_argument("--seed", type=int, default=42)
    gs.set_defaults(func=_general_slice)


def _example(args) -> int:
    if args.weeks:
        from tuneloop.data.example import stream

        done = stream.snapshot(args.out, *stream.parse_weeks(args.weeks), args.per_week, args.seed)
    else:
        from tuneloop.data import example

        done = example.generate(args.out, args.n_tickets, args.seed)
    show(done)
    return 0


def _general_slice(args) -> int:
    from tuneloop.evals import general

    path = general.fetch(general.DATA_FILE, args.limit, args.seed)
    print(f"wrote {path}; now `dvc add {path} && dvc push` and commit {path}.dvc (runners then read it offline)")
    return 0
