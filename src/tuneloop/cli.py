"""The `tuneloop` command: one sub-command per pipeline stage (what dvc.yaml runs), plus helpers.

    tuneloop params [OVERRIDE ...]   compose conf/ into params.yaml (as `dvc exp run -S` does)
    tuneloop base | prepare | build | split | train | guard | evaluate | gate [--check] | card
    tuneloop freeze                  re-freeze the eval suite (evals/suite.lock) after a deliberate change
    tuneloop suite init [--seed N] [--per-label K] [--plant-canaries] [--force] [--out DIR]
                                     a company's own frozen suite + gate from its held-out split (conf/suite)
    tuneloop example-corpus --out data/raw   regenerate the embedded example corpus
    tuneloop general-slice [--limit 200]     fetch the forgetting check's HellaSwag slice once (online; then dvc add)
    tuneloop example-corpus --out data/fresh --weeks 17-20   a snapshot of the drifting stream (docs/loop.md)
    tuneloop report --pr [--out reports/pr_comment.md] [--base-ref main]   render the PR comment
    tuneloop publish --pr N --body reports/pr_comment.md   post/update it (sticky; GITHUB_TOKEN)
    tuneloop referee --adapter DIR --train-split FILE [--champion DIR] --out DIR   judge a PR's adapter with
                     this checkout's code, conf/ and evals (the required check; docs/ci.md)
    tuneloop referee --check OUT/verdict.json   exit 1 unless the referee's verdict passed
  after the merge (docs/registry.md, docs/serving.md):
    tuneloop register [--verdict referee.json]   GTO version of the adapter dvc.lock records at HEAD
    tuneloop promote VERSION --stage staging|production | rollback | stock | registry [--json]
    tuneloop export --version VERSION | --adapter DIR  --format adapter|merged|gguf --out DIR
    tuneloop serve [--config deploy/serve.yaml]  OpenAI-compatible server (keys: TUNELOOP_API_KEYS)
    tuneloop rollout report [--log reports/serve/requests.jsonl]   canary/shadow arms compared
  the loop that keeps it fresh (docs/loop.md):
    tuneloop drift [--current DIR] [--log FILE]   fresh data vs the training split -> reports/drift/ (a stage)
    tuneloop feedback collect [--log FILE] [--out FILE]   reviewable training candidates from production feedback
    tuneloop retrain [--dry-run] [--force]   refresh -> drift -> policy -> a local branch with the new data version
    tuneloop simulate [--weeks 24] ...       the 24-week drifting stream, with and without the loop

Stages read params.yaml from the current directory (the repo root, where DVC runs them).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys

# stage (as dvc.yaml runs it) -> its module; the order is the pipeline's
STAGE_MODULES = {
    "base": "tuneloop.train.base",
    "prepare": "tuneloop.data.prepare",
    "build": "tuneloop.data.build",
    "split": "tuneloop.data.split",
    "train": "tuneloop.train.sft",
    "guard": "tuneloop.evals.contamination",
    "evaluate": "tuneloop.evals.evaluate",
    "gate": "tuneloop.gate.verdict",
    "card": "tuneloop.gate.card",
    "drift": "tuneloop.monitor.drift",
}
STAGES = tuple(STAGE_MODULES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tuneloop", description=__doc__.split("\n")[0])
    parser.add_argument("--params", default="params.yaml", help="parameters file (default: params.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("params", help="compose conf/ into params.yaml")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. preset=quality model.local_path=/m")
    for stage in STAGES:
        sp = sub.add_parser(stage, help=f"run the {stage} stage")
        if stage == "gate":
            sp.add_argument("--check", action="store_true",
                            help="only read metrics/gate.json and exit 1 if the gate failed")
        if stage == "drift":
            sp.add_argument("--current", help="a fresh snapshot laid out like data/raw (default: retrain.current)")
            sp.add_argument("--log", help="the server's request log (default: retrain.log, when it exists)")
    sub.add_parser("freeze", help="re-freeze the regression suite and probes (evals/suite.lock), loudly")
    su = sub.add_parser("suite", help="a company's own frozen eval suite (tuneloop suite init)")
    si = su.add_subparsers(dest="suite_command", required=True).add_parser(
        "init", help="draw the regression set from the held-out split, render the probes from conf/suite, "
                     "write conf/gate/<data.name>.yaml, freeze (run after `dvc repro split`)")
    si.add_argument("--seed", type=int, default=None, help="seed of the draw (default: params.yaml seed)")
    si.add_argument("--per-label", type=int, default=None, help="classify cases per label (default: suite.per_label)")
    si.add_argument("--plant-canaries", action="store_true",
                    help="generate company-specific canary PII and write it into data/raw/canaries.jsonl")
    si.add_argument("--force", action="store_true", help="replace an existing suite (lists what changes)")
    si.add_argument("--out", default="evals", help="folder for regression/, probes/ and suite.lock (default: evals)")
    gs = sub.add_parser("general-slice", help="fetch the forgetting check's HellaSwag slice ONCE (needs the hub), "
                                              "then version it: dvc add data/general/hellaswag.jsonl && dvc push")
    gs.add_argument("--limit", type=int, default=200)
    gs.add_argument("--seed", type=int, default=42)
    ec = sub.add_parser("example-corpus", help="write the synthetic example corpus")
    ec.add_argument("--out", default="data/raw")
    ec.add_argument("--n-tickets", type=int, default=720)
    ec.add_argument("--seed", type=int, default=1234)
    ec.add_argument("--weeks", help="FIRST-LAST: a snapshot of the drifting stream instead (e.g. 17-20)")
    ec.add_argument("--per-week", type=int, default=75, help="tickets per week of the stream (with --weeks)")
    rp = sub.add_parser("report", help="render the pull-request comment from metrics/ and reports/")
    rp.add_argument("--pr", action="store_true", help="the pull-request comment (the only report so far)")
    rp.add_argument("--out", default="reports/pr_comment.md")
    rp.add_argument("--base-ref", default="main", help="git ref to diff params, metrics and data against")
    pb = sub.add_parser("publish", help="post or update the sticky PR comment (token from GITHUB_TOKEN)")
    pb.add_argument("--pr", type=int, required=True, help="pull request number")
    pb.add_argument("--body", default="reports/pr_comment.md", help="file with the comment body")
    pb.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="owner/name ($GITHUB_REPOSITORY)")
    pb.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL") or "https://api.github.com")
    pb.add_argument("--tries", type=int, default=4, help="attempts on 5xx/connection errors (never on 4xx)")
    pb.add_argument("--retry-delay", type=float, default=1.0, help="seconds before the 2nd try; doubles")
    pb.add_argument("--author", default="github-actions[bot]",
                    help="login of the bot whose marked comment is the sticky one (default: github-actions[bot])")
    rf = sub.add_parser("referee", help="judge a PR's adapter with this checkout's code, config and evals")
    rf.add_argument("--adapter", help="the PR's adapter folder (adapter_config.json + adapter_model.safetensors)")
    rf.add_argument("--train-split", help="the PR's training split (JSONL), for the contamination guard")
    rf.add_argument("--champion", help="the champion adapter folder (absent: no champion yet)")
    rf.add_argument("--champion-unavailable", action="store_true",
                    help="a champion exists but could not be fetched: the verdict fails (fail closed)")
    rf.add_argument("--out", default="referee", help="where verdict.json, comment.md and metrics/ go")
    rf.add_argument("--base-sha", help="the commit whose referee this is (default: git HEAD)")
    rf.add_argument("--judged-sha", help="the commit the PR's adapter was trained from (its merge commit)")
    rf.add_argument("--check", metavar="VERDICT", help="only read a verdict.json and exit 1 unless it passed")
    rf.add_argument("overrides", nargs="*", help="Hydra overrides of this checkout's conf/ (from its own workflow)")
    _after_merge_parsers(sub)
    from tuneloop.monitor.commands import add_parsers as _monitor_parsers

    _monitor_parsers(sub)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    # report and publish come before the params import: the comment job installs tuneloop without
    # its ML dependencies (pip install --no-deps), and these two need only the standard library.
    if args.command == "report":
        if not args.pr:
            parser.error("report: say --pr (the pull-request comment is the only report so far)")
        from tuneloop.ci import comment as report

        print(f"wrote {report.write_pr_comment(args.out, args.base_ref)}")
        return 0
    if args.command == "publish":
        from tuneloop.ci import publish

        try:
            done = publish.run(args.pr, args.body, args.repo, args.api_url, os.environ.get("GITHUB_TOKEN"),
                               tries=args.tries, retry_delay=args.retry_delay, author=args.author)
        except publish.PublishError as exc:
            print(f"tuneloop publish: error: {exc}", file=sys.stderr)
            return 2
        print(f"publish: {done['action']} comment {done['id']} on {args.repo}#{args.pr}: {done['url']}")
        return 0
    if args.command == "referee":
        from tuneloop.referee import judge

        if args.check:
            return judge.check(args.check)
        if not (args.adapter and args.train_split):
            parser.error("referee: --adapter and --train-split are required (or --check VERDICT)")
        try:
            verdict = judge.judge(args.adapter, args.train_split, args.out, args.champion, args.champion_unavailable,
                                  args.overrides, base_sha=args.base_sha, judged_sha=args.judged_sha)
        except (judge.RefereeError, FileNotFoundError, ValueError) as exc:
            print(f"tuneloop referee: error: {exc}", file=sys.stderr)
            return 2
        print(f"referee: {'PASS' if verdict['passed'] else 'FAIL'} adapter {verdict['candidate_md5']} "
              f"(base {verdict['base_sha']}); wrote {args.out}/verdict.json and {args.out}/comment.md")
        return 0  # the verdict is data; `tuneloop referee --check` turns it into the check's exit code
    if args.command in AFTER_MERGE:
        return after_merge(args)
    if args.command in ("feedback", "retrain", "simulate"):
        from tuneloop.monitor import commands

        return commands.run(args)
    if args.command == "freeze":
        from tuneloop.evals import suite

        suite.freeze()
        return 0
    from tuneloop.params import compose, load_params, write_params

    if args.command == "params":
        path = write_params(compose(args.overrides), args.params)
        print(f"wrote {path}")
        return 0
    if args.command == "suite":
        return _suite_init(args, load_params(args.params))
    if args.command == "general-slice":
        from tuneloop.evals import general

        path = general.fetch(general.DATA_FILE, args.limit, args.seed)
        print(f"wrote {path}; now `dvc add {path} && dvc push` and commit {path}.dvc (runners then read it offline)")
        return 0
    if args.command == "example-corpus":
        from tuneloop.data import example as example_corpus

        if args.weeks:
            from tuneloop.data.example import drift as stream

            done = stream.snapshot(args.out, *stream.parse_weeks(args.weeks), args.per_week, args.seed)
        else:
            done = example_corpus.generate(args.out, args.n_tickets, args.seed)
        print(json.dumps(done, indent=2))
        return 0
    if args.command == "gate" and args.check:
        from tuneloop.gate import verdict as gate

        return gate.check()
    module = importlib.import_module(STAGE_MODULES[args.command])
    extra = {"current": args.current, "log_file": args.log} if args.command == "drift" else {}
    try:
        result = module.run(load_params(args.params), **extra)
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        # Our stages raise these with a message naming the file/record/setting at fault.
        print(f"tuneloop {args.command}: error: {exc}", file=sys.stderr)
        return 2
    if args.command == "gate":
        return 0  # the stage records the verdict; `tuneloop gate --check` turns it into an exit code
    if isinstance(result, dict):
        print(json.dumps(result, indent=2, default=str)[:4000])
    return 0


def _suite_init(args: argparse.Namespace, params: dict) -> int:
    from pathlib import Path

    from tuneloop.evals import suite_init

    try:
        done = suite_init.init_suite(params, suite_init.TEST_FILE, Path(args.out), seed=args.seed,
                                     per_label=args.per_label, plant_canaries=args.plant_canaries, force=args.force)
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        print(f"tuneloop suite init: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(done, indent=2))
    print(f"\nnext: review {done['out']}/regression, {done['out']}/probes and {done['gate']['file']}; select the gate "
          f"with `dvc exp run -S {done['gate']['select']}` (or `tuneloop params {done['gate']['select']}`); "
          f"commit them with {done['lock']}.")
    if done["canaries"]["planted"]:
        print(f"canaries planted in {done['canaries']['planted']}: add to conf/data/<name>.yaml `sources:`\n"
              f"  - {done['canaries']['source_entry']}\nand to conf/eval `canaries: {json.dumps(done['canaries']['values'])}`"
              f", then `dvc commit data.dvc` and `dvc repro` (redaction must remove them before the split).")
    return 0


AFTER_MERGE = ("register", "promote", "rollback", "stock", "registry", "export", "serve", "rollout")


def _after_merge_parsers(sub) -> None:
    rg = sub.add_parser("register", help="register the adapter dvc.lock records as a GTO version")
    rg.add_argument("--rev", default="HEAD", help="commit whose dvc.lock names the adapter")
    rg.add_argument("--verdict", help="the referee's verdict JSON, embedded in the tag (needed to change stage)")
    rg.add_argument("--lock", default="dvc.lock")
    pm = sub.add_parser("promote", help="assign a version to a stage (refused without a passing verdict)")
    pm.add_argument("version", help="e.g. v3.0.0 (see `tuneloop registry`)")
    pm.add_argument("--stage", required=True, choices=["staging", "production"])
    sub.add_parser("rollback", help="production back to the version before the current one")
    sub.add_parser("stock", help="no production version: the server answers with the base model")
    rs = sub.add_parser("registry", help="versions with stage, verdict, key metrics, data and base hashes")
    rs.add_argument("--json", action="store_true")
    for name in ("register", "promote", "rollback", "stock"):
        sub.choices[name].add_argument("--push", action="store_true", help="push the new tags to origin")
    ex = sub.add_parser("export", help="export an adapter: PEFT folder, merged safetensors or GGUF")
    src = ex.add_mutually_exclusive_group(required=True)
    src.add_argument("--version", help="a registered version (materialised from the DVC cache)")
    src.add_argument("--adapter", help="an adapter folder")
    ex.add_argument("--format", required=True, choices=["adapter", "merged", "gguf"])
    ex.add_argument("--base", default="models/base")
    ex.add_argument("--out", required=True)
    sv = sub.add_parser("serve", help="OpenAI-compatible server with the production adapter")
    sv.add_argument("--config", default="deploy/serve.yaml")
    sv.add_argument("--host")
    sv.add_argument("--port", type=int)
    sv.add_argument("--adapter", help="serve this adapter folder instead of the registry's")
    sv.add_argument("--no-auth", action="store_true", help="no API keys (a local trial on 127.0.0.1 only)")
    sv.add_argument("--vllm", action="store_true",
                    help="print the vLLM launch command (GPU) for the registry's holders (config deploy/vllm.yaml)")
    ro = sub.add_parser("rollout", help="rollout report: canary/shadow arms compared from the request log")
    ro.add_argument("action", choices=["report"])
    ro.add_argument("--log", default="reports/serve/requests.jsonl")
    ro.add_argument("--json", action="store_true")


def after_merge(args) -> int:
    """The registry, export, serving and rollout commands (none reads params.yaml as a stage does)."""
    from tuneloop.registry.store import Registry, RegistryError

    try:
        if args.command == "register":
            from tuneloop.registry import verdict as verdicts

            verdict = None
            if args.verdict:
                with open(args.verdict, encoding="utf-8") as fh:
                    verdict = verdicts.parse(fh.read(), args.verdict)
            v = Registry().register(args.rev, verdict, args.lock, push=args.push)
            print(f"registered {v.name} (adapter md5 {v.md5}, verdict: "
                  f"{'missing' if v.verdict is None else 'passed' if v.verdict['passed'] else 'failed'})")
        elif args.command in ("promote", "rollback", "stock"):
            reg = Registry()
            done = (reg.promote(args.version, args.stage, push=args.push) if args.command == "promote"
                    else getattr(reg, args.command)(push=args.push))
            now = done["version"] or "the stock base model"
            print(f"{args.command}: {done['stage']} is now {now}" + (f" (was {done['previous']})" if done["previous"] else ""))
        elif args.command == "registry":
            rows = Registry().table()
            print(json.dumps(rows, indent=2) if args.json else _registry_table(rows))
        elif args.command == "export":
            from tuneloop.registry import export

            print(json.dumps(export.run(args.format, args.out, base=args.base, version=args.version,
                                        adapter=args.adapter), indent=2))
        elif args.command == "serve" and args.vllm:
            from tuneloop.serve import vllm

            cfg = vllm.load_config("deploy/vllm.yaml" if args.config == "deploy/serve.yaml" else args.config)
            print(vllm.shell(vllm.command(cfg, vllm.adapters(cfg))))
        elif args.command == "serve":
            from tuneloop.serve import server

            cfg = server.load_config(args.config if os.path.exists(args.config) or args.config != "deploy/serve.yaml"
                                     else None, host=args.host, port=args.port, adapter=args.adapter)
            cfg["auth"] = not args.no_auth
            server.run(cfg)
        elif args.command == "rollout":
            from tuneloop.serve import rollout

            rep = rollout.report(args.log)
            print(json.dumps(rep, indent=2) if args.json else rollout.render(rep))
    except (RegistryError, ValueError, FileNotFoundError) as exc:
        print(f"tuneloop {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _registry_table(rows: list[dict]) -> str:
    lines = ["| version | stage | verdict | key metrics | adapter md5 | data md5 | base md5 | commit |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        metrics = ", ".join(f"{k} {v}" for k, v in r["metrics"].items()) or "-"
        data = ", ".join(f"{k.split('/')[-1]} {str(v)[:8]}" for k, v in r["data_md5"].items()) or "-"
        lines.append(f"| {r['version']} | {r['stage']} | {r['verdict']} | {metrics} | {r['adapter_md5'][:12]} | "
                     f"{data} | {str(r['base_md5'])[:12] or '-'} | {r['commit']} |")
    return "\n".join(lines) if rows else "no versions registered yet (`tuneloop register --verdict FILE`)"


if __name__ == "__main__":
    raise SystemExit(main())
