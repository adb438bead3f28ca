"""`tuneloop pr report|publish|referee`: the pull request's comment and its referee (docs/ci.md).

    tuneloop pr report [--out reports/pr_comment.md] [--base-ref main]   render the PR comment
    tuneloop pr publish --pr N --body reports/pr_comment.md             post/update it (sticky; GITHUB_TOKEN)
    tuneloop pr referee --adapter DIR --train-split FILE [--champion DIR] --out DIR
                        judge a PR's adapter with this checkout's code, conf/ and evals (the required check)
    tuneloop pr referee --check OUT/verdict.json                        exit 1 unless the verdict passed

Nothing heavy is imported here: the comment job installs tuneloop without its ML dependencies
(pip install --no-deps), and report and publish need only the standard library.
"""

from __future__ import annotations

import os
import sys

COMMANDS = [
    ("pr report", "render the pull-request comment from metrics/ and reports/"),
    ("pr publish", "post or update the sticky PR comment (token from GITHUB_TOKEN)"),
    ("pr referee", "judge a PR's adapter with this checkout's code, config and evals"),
]


def add_parsers(sub) -> None:
    family = sub.add_parser("pr", description="the pull request: its comment and its referee")
    verbs = family.add_subparsers(dest="pr_command", required=True, metavar="VERB")
    rp = verbs.add_parser("report", help=COMMANDS[0][1], description=COMMANDS[0][1])
    rp.add_argument("--out", default="reports/pr_comment.md")
    rp.add_argument("--base-ref", default="main", help="git ref to diff params, metrics and data against")
    rp.set_defaults(func=_report)
    pb = verbs.add_parser("publish", help=COMMANDS[1][1], description=COMMANDS[1][1])
    pb.add_argument("--pr", type=int, required=True, help="pull request number")
    pb.add_argument("--body", default="reports/pr_comment.md", help="file with the comment body")
    pb.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="owner/name ($GITHUB_REPOSITORY)")
    pb.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL") or "https://api.github.com")
    pb.add_argument("--tries", type=int, default=4, help="attempts on 5xx/connection errors (never on 4xx)")
    pb.add_argument("--retry-delay", type=float, default=1.0, help="seconds before the 2nd try; doubles")
    pb.add_argument(
        "--author",
        default="github-actions[bot]",
        help="login of the bot whose marked comment is the sticky one (default: github-actions[bot])",
    )
    pb.set_defaults(func=_publish)
    rf = verbs.add_parser("referee", help=COMMANDS[2][1], description=COMMANDS[2][1])
    rf.add_argument("--adapter", help="the PR's adapter folder (adapter_config.json + adapter_model.safetensors)")
    rf.add_argument("--train-split", help="the PR's training split (JSONL), for the contamination guard")
    rf.add_argument("--champion", help="the champion adapter folder (absent: no champion yet)")
    rf.add_argument(
        "--champion-unavailable",
        action="store_true",
        help="a champion exists but could not be fetched: the verdict fails (fail closed)",
    )
    rf.add_argument("--out", default="referee", help="where verdict.json, comment.md and metrics/ go")
    rf.add_argument(
        "--sealed",
        help="the sealed holdout folder (data/sealed, pulled with the sealed store's key): required where sealed.dvc exists",
    )
    rf.add_argument("--base-sha", help="the commit whose referee this is (default: git HEAD)")
    rf.add_argument("--judged-sha", help="the commit the PR's adapter was trained from (its merge commit)")
    rf.add_argument("--check", metavar="VERDICT", help="only read a verdict.json and exit 1 unless it passed")
    rf.add_argument("overrides", nargs="*", help="Hydra overrides of this checkout's conf/ (from its own workflow)")
    rf.set_defaults(func=_referee, parser=rf)


def _report(args) -> int:
    from tuneloop.ci import comment

    print(f"wrote {comment.write_pr_comment(args.out, args.base_ref)}")
    return 0


def _publish(args) -> int:
    from tuneloop.ci import publish

    try:
        done = publish.run(
            args.pr,
            args.body,
            args.repo,
            args.api_url,
            os.environ.get("GITHUB_TOKEN"),
            tries=args.tries,
            retry_delay=args.retry_delay,
            author=args.author,
        )
    except publish.PublishError as exc:
        print(f"tuneloop pr publish: error: {exc}", file=sys.stderr)
        return 2
    print(f"publish: {done['action']} comment {done['id']} on {args.repo}#{args.pr}: {done['url']}")
    return 0


def _referee(args) -> int:
    from tuneloop.referee import judge

    if args.check:
        return judge.check(args.check)
    if not (args.adapter and args.train_split):
        args.parser.error("--adapter and --train-split are required (or --check VERDICT)")
    try:
        verdict = judge.judge(
            args.adapter,
            args.train_split,
            args.out,
            args.champion,
            args.champion_unavailable,
            args.overrides,
            base_sha=args.base_sha,
            judged_sha=args.judged_sha,
            sealed_dir=args.sealed,
        )
    except (judge.RefereeError, FileNotFoundError, ValueError) as exc:
        print(f"tuneloop pr referee: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"referee: {'PASS' if verdict['passed'] else 'FAIL'} adapter {verdict['candidate_md5']} "
        f"(base {verdict['base_sha']}); wrote {args.out}/verdict.json and {args.out}/comment.md"
    )
    return 0  # the verdict is data; `tuneloop pr referee --check` turns it into the check's exit code
