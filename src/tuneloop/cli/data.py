"""`tuneloop data example|general-slice`: the example company's corpus and the forgetting check's slice.

tuneloop data example --out data/raw                     # regenerate the embedded example corpus
tuneloop data example --out data/fresh --weeks 17-20     # a snapshot of its drifting stream (docs/loop.md)
tuneloop data example --sealed --out DROP               # the example's sealed drop (the referee's holdout)
tuneloop data seal DROP --share 0.2                      # carve a new drop: a sealed share, the rest to data/raw
tuneloop data general-slice --limit 200                  # fetch the HellaSwag slice ONCE (online), then dvc add
"""

from __future__ import annotations

from tuneloop.cli._common import show

COMMANDS = [
    ("data example", "write the example company's corpus (or --weeks: its drifting stream)"),
    ("data general-slice", "fetch the forgetting check's HellaSwag slice once (needs the hub)"),
    ("data seal", "a new data drop: a seeded share per label to the sealed holdout, the rest to data/raw"),
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
    ec.add_argument(
        "--sealed",
        action="store_true",
        help="the example's sealed drop instead: 160 tickets of its undrifted weeks -2..-1 (docs/sealed.md)",
    )
    ec.set_defaults(func=_example)
    se = verbs.add_parser("seal", help=COMMANDS[2][1], description=COMMANDS[2][1] + " (docs/sealed.md)")
    se.add_argument("drop", help="a folder laid out like data/raw: the files a new data version adds")
    se.add_argument("--share", type=float, default=0.2, help="share of each label's records sealed (1: the whole drop)")
    se.add_argument("--seed", type=int, default=0)
    se.add_argument("--raw", default="data/raw")
    se.add_argument("--sealed", default="data/sealed")
    se.add_argument("--label-field", default=None, help="the field to stratify by (auto: category, label, intent)")
    se.add_argument("--dvc-file", default="sealed.dvc", help="the .dvc file written for the sealed folder ('': none)")
    se.set_defaults(func=_seal)
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
    if args.sealed:
        from tuneloop.data.example import stream

        done = stream.sealed_drop(args.out)
    elif args.weeks:
        from tuneloop.data.example import stream

        done = stream.snapshot(args.out, *stream.parse_weeks(args.weeks), args.per_week, args.seed)
    else:
        from tuneloop.data import example

        done = example.generate(args.out, args.n_tickets, args.seed)
    show(done)
    return 0


def _seal(args) -> int:
    from tuneloop.data import seal

    try:
        report = seal.seal(args.drop, args.raw, args.sealed, args.share, args.seed, args.label_field)
    except seal.SealError as exc:
        print(f"tuneloop data seal: {exc}")
        return 2
    print(seal.summary(report, args.raw, args.sealed))
    if args.dvc_file:
        print(f"wrote {args.dvc_file}: {seal.write_dvc_file(args.sealed, args.dvc_file)}")
    return 0


def _general_slice(args) -> int:
    from tuneloop.evals import general

    path = general.fetch(general.DATA_FILE, args.limit, args.seed)
    print(f"wrote {path}; now `dvc add {path} && dvc push` and commit {path}.dvc (runners then read it offline)")
    return 0
