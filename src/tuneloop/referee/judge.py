"""The referee: judge a pull request's adapter with this checkout's code, config, evals and frozen sets.

    tuneloop pr referee --adapter DIR --train-split FILE [--champion DIR | --champion-unavailable] --out DIR \
        [--sealed DIR] [--base-sha SHA] [--judged-sha SHA] [OVERRIDE ...]
    tuneloop pr referee --check DIR/verdict.json      # exit 1 unless the verdict passed (the required check)

Inputs from the pull request are data only: the adapter folder (validated by adapter.py before any
model library sees it) and its training split (JSONL, for the contamination guard). Everything else
comes from the checkout this module lives in, normally the base commit: params are composed afresh
from its conf/ (never its params.yaml: a referee with a stale params.yaml is still this checkout's),
the base model and test split are its DVC outputs (models/base, data/splits/test.jsonl), evals/ is its
frozen suite. The sealed holdout (--sealed, pulled with a key only the referee holds; referee/sealed.py) must
be the folder sealed.dvc versions, or the verdict fails. The stages run through this checkout's CLI in a scratch workspace (OUT/workspace), so
nothing is cached: every run scores base, champion (when given) and candidate from scratch.

OUT/verdict.json: {"passed", "candidate_md5" (DVC's md5 of the adapter folder), "base_sha" (the commit
whose referee judged), "judged_sha", "rules" (the gate's + adapter/champion/sealed checks), "summary",
"sealed" (its counts) and "sealed_md5"}.
OUT/comment.md: the PR comment body (model text in code spans). OUT/metrics/: eval, gate, contamination.
OUT/adapter/: the referee's own copy, made once, with its canonical adapter_config.json (tuneloop.lora_config):
what it hashed, validated, scored, and what promotion pushes. No samples or redaction records are written out.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import tuneloop
from tuneloop import paths
from tuneloop.ci.comment import MARKER
from tuneloop.dvc_hash import dir_md5 as dvc_dir_md5
from tuneloop.io import read_json, write_json, write_text_atomic
from tuneloop.params import compose, write_params
from tuneloop.referee import sealed as sealed_set
from tuneloop.referee.adapter import AdapterError, canonicalize, copy_adapter, stage_copy, validate_adapter

log = logging.getLogger(__name__)

MAX_TRAIN_SPLIT_BYTES = 2 * 1024**3
STAGES = ("guard", "evaluate", "gate")  # what the referee runs, in this order, through this checkout's CLI
KEEP = {
    "metrics/eval.json": "metrics/eval.json",
    "metrics/gate.json": "metrics/gate.json",
    "reports/contamination.json": "metrics/contamination.json",
    "reports/gate.md": "gate.md",
}


class RefereeError(RuntimeError):
    """The referee itself cannot run (its own checkout is incomplete): an error, not a verdict."""


def _rule(metric: str, kind: str, passed: bool, reason: str | None = None, value: Any = None) -> dict:
    return {
        "metric": metric,
        "kind": kind,
        "threshold": None,
        "value": value,
        "passed": passed,
        "applicable": True,
        "reason": reason,
        "severity": "fail",
    }


def _skipped(metric: str, kind: str, reason: str) -> dict:
    """A referee check that did not apply: never counted as passed, listed in the comment."""
    return _rule(metric, kind, True, reason) | {"status": "skipped", "optional": reason}


GENERAL_DVC = paths.GENERAL_SLICE.with_name(paths.GENERAL_SLICE.name + ".dvc")


def general_slice_check(repo: Path) -> dict:
    """The forgetting slice: versioned and pulled -> the check passes and evaluate runs it (on CPU too);
    versioned but not pulled -> fails closed; not versioned -> skipped, and said."""
    if (repo / paths.GENERAL_SLICE).is_file():
        return _rule("general", "fetch", True, None, paths.GENERAL_SLICE.as_posix())
    if (repo / GENERAL_DVC).exists():
        return _rule(
            "general",
            "fetch",
            False,
            f"{GENERAL_DVC.as_posix()} versions the forgetting slice but it was not pulled (`dvc pull "
            f"{GENERAL_DVC.as_posix()}`): the forgetting rule cannot run, so the referee fails closed",
        )
    return _skipped(
        "general",
        "fetch",
        f"no forgetting slice is versioned ({GENERAL_DVC.as_posix()}): `tuneloop data general-slice` once, online, "
        "then dvc add + push, and the referee runs it (docs/eval-harness.md)",
    )


def check_train_split(path: Path) -> tuple[int, str | None]:
    """(records, problem): the PR's training split must be JSONL objects with a string `user` turn."""
    if not path.is_file() or path.is_symlink():
        return 0, f"{path}: not a file"
    if path.stat().st_size > MAX_TRAIN_SPLIT_BYTES:
        return 0, f"{path}: over {MAX_TRAIN_SPLIT_BYTES} bytes"
    n = 0
    with path.open(encoding="utf-8", errors="strict") as fh:
        try:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    return n, f"{path}:{lineno}: not JSON ({exc})"
                if not isinstance(row, dict) or not isinstance(row.get("user"), str):
                    return n, f"{path}:{lineno}: a training example needs a string `user` field"
                n += 1
        except UnicodeDecodeError as exc:
            return n, f"{path}: not UTF-8 ({exc})"
    return n, None if n else f"{path}: no training examples"


def git_head(repo: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def prepare_workspace(
    ws: Path, repo: Path, params: dict, adapter: Path, champion: Path | None, train_split: Path
) -> None:
    """A repo-shaped scratch folder: this checkout's evals, base model and test split; the PR's data."""
    shutil.rmtree(ws, ignore_errors=True)
    (ws / "models").mkdir(parents=True)
    (ws / "data" / "splits").mkdir(parents=True)
    for need in ("models/base", "data/splits/test.jsonl", "evals"):
        if not (repo / need).exists():
            raise RefereeError(
                f"{repo / need} is missing in the referee's checkout: run `dvc pull base split` "
                "(or `dvc repro base split`) there first"
            )
    shutil.copytree(repo / "evals", ws / "evals")
    os.symlink((repo / "models/base").resolve(), ws / "models/base")
    shutil.copyfile(repo / "data/splits/test.jsonl", ws / "data/splits/test.jsonl")
    shutil.copyfile(train_split, ws / "data/splits/train.jsonl")
    if (repo / paths.GENERAL_SLICE).is_file():  # the forgetting slice (general_slice_check)
        (ws / paths.GENERAL_SLICE).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo / paths.GENERAL_SLICE, ws / paths.GENERAL_SLICE)
    if (repo / "data/splits/train.jsonl").exists():  # the base's own split: what counts as common boilerplate
        shutil.copyfile(repo / "data/splits/train.jsonl", ws / "data/splits/reference_train.jsonl")
    copy_adapter(adapter, ws / "models/adapter")
    if champion is not None:
        copy_adapter(champion, ws / "models/champion")
    write_params(params, ws / "params.yaml")


# One interpreter for the three stages (torch and lm-eval load once); each goes through cli.main, as
# `tuneloop <stage>` would, and the first that fails stops the rest.
RUNNER = (
    "import sys; from tuneloop import cli\n"
    "for stage in sys.argv[1:]:\n"
    "    code = cli.main(['--params', 'params.yaml', stage])\n"
    "    if code: sys.exit(f'referee: tuneloop {stage} failed (exit {code})')\n"
)


def run_stages(ws: Path, stages: tuple[str, ...] | list[str] = STAGES, quiet: bool = False) -> None:
    """The stages through *this* package's CLI (its source dir first on the path), in the workspace."""
    src = str(Path(tuneloop.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    log.info("referee: tuneloop %s (in %s)", " / ".join(stages), ws)
    # quiet: the stages' stdout (their JSON reports) stays out of the job log, which the PR's author can read
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, *stages], cwd=ws, env=env, stdout=subprocess.DEVNULL if quiet else None
    )
    if proc.returncode != 0:
        raise RefereeError(f"referee: the stages {list(stages)} failed (exit {proc.returncode}) in {ws}")


def judge(
    adapter_dir: str | Path,
    train_split: str | Path,
    out_dir: str | Path,
    champion_dir: str | Path | None = None,
    champion_unavailable: bool = False,
    overrides: list[str] | None = None,
    repo: str | Path = ".",
    base_sha: str | None = None,
    judged_sha: str | None = None,
    sealed_dir: str | Path | None = None,
) -> dict:
    repo, out = Path(repo).resolve(), Path(out_dir)
    adapter_dir, train_split = Path(adapter_dir), Path(train_split)
    forgetting = general_slice_check(repo)  # runs on CPU too where the slice is versioned and pulled
    pulled = forgetting["passed"] and forgetting.get("status") != "skipped"
    extra = ["eval.general.enabled=true"] if pulled else []
    params = compose([*(overrides or []), *extra], conf_dir=repo / "conf")
    base_names = {"models/base", str((repo / "models/base").resolve())} | (
        {params["model"]["hub_id"]} if params["model"].get("hub_id") else set()
    )
    checks: list[dict] = []
    submitted_md5 = dvc_dir_md5(adapter_dir) if adapter_dir.is_dir() and not adapter_dir.is_symlink() else None
    # One copy, made now: everything below reads out/adapter only (hash, validation, scoring, publishing)
    staged = out / "adapter"
    copied = stage_copy(adapter_dir, staged)
    try:
        if copied:
            raise AdapterError("; ".join(copied))
        validate_adapter(staged, repo / "models/base", params["method"], base_names)
        canonicalize(staged, str(params["method"].get("name", "lora")))  # what PEFT, the server, vLLM load
        checks.append(_rule("adapter", "validate", True))
    except AdapterError as exc:
        checks.append(_rule("adapter", "validate", False, str(exc)[:2000]))
    candidate_md5 = dvc_dir_md5(staged) if checks[-1]["passed"] else submitted_md5
    champion = Path(champion_dir) if champion_dir and Path(champion_dir).exists() else None
    if champion_unavailable or (champion_dir and champion is None):
        checks.append(
            _rule(
                "champion",
                "fetch",
                False,
                "a champion exists but could not be fetched: "
                "the comparison against it cannot be made, so the referee fails closed",
            )
        )
    elif champion is not None:
        try:
            validate_adapter(champion, repo / "models/base", params["method"], base_names)
            checks.append(_rule("champion", "fetch", True))
        except AdapterError as exc:
            checks.append(_rule("champion", "fetch", False, f"the champion is not a valid adapter: {exc}"[:2000]))
    n_train, problem = check_train_split(train_split)
    checks.append(_rule("train_split", "validate", problem is None, problem, n_train))
    checks.append(forgetting)
    sealed_dir = Path(sealed_dir) if sealed_dir else None
    sealed_out, problem = sealed_set.verify(repo, sealed_dir)
    if sealed_out is None and problem is None:
        checks.append(
            _skipped("sealed", "fetch", "this repository versions no sealed holdout (sealed.dvc): docs/sealed.md")
        )
    else:
        checks.append(_rule("sealed", "fetch", problem is None, problem, sealed_out and sealed_out.get("md5")))

    gate, summary, sealed_counts = None, {}, None
    if all(c["passed"] for c in checks):
        ws = out / "workspace"
        prepare_workspace(ws, repo, params, staged, champion, train_split)
        if sealed_out is not None:
            try:  # the sealed items, built by this checkout's prepare and build: before any model is scored
                sealed_counts = sealed_set.build_items(ws, params, sealed_dir, repo / "models/base", run_stages)
            except sealed_set.SealedError as exc:
                checks[-1] = _rule("sealed", "fetch", False, str(exc)[:2000], sealed_out.get("md5"))
    if all(c["passed"] for c in checks):
        run_stages(ws)
        gate, summary = read_json(ws / "metrics/gate.json"), read_json(ws / "metrics/summary.json")
        for src, dst in KEEP.items():
            (out / dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ws / src, out / dst)
        shutil.rmtree(ws)  # samples.jsonl and the model copies stay behind on no account
    rules = checks + (gate["rules"] if gate else [])
    passed = gate is not None and bool(gate["passed"]) and all(c["passed"] for c in checks)
    if gate is None:
        shutil.rmtree(staged, ignore_errors=True)  # only a scored adapter is published
    verdict = {
        "passed": passed,
        "candidate_md5": candidate_md5,  # the canonical copy the referee scored and publishes (out/adapter)
        "submitted_md5": submitted_md5,  # the folder the train job handed over, before the canonical config
        "base_sha": base_sha or git_head(repo),
        "judged_sha": judged_sha,
        "rules": rules,
        "summary": summary,
        "scored": gate is not None,
        "sealed": sealed_counts,  # {records_kept, classify_items} of the sealed set, or None
        "sealed_md5": (sealed_out or {}).get("md5"),  # the version sealed.dvc names (what it had to score)
        "models": (read_json(out / "metrics/eval.json").get("models") if gate is not None else []),
    }
    write_json(out / "verdict.json", verdict)
    write_text_atomic(out / "comment.md", render_comment(verdict, out / "gate.md" if gate else None))
    log.info("referee: %s candidate %s (base %s)", "PASS" if passed else "FAIL", candidate_md5, verdict["base_sha"])
    return verdict


def render_comment(verdict: dict, gate_report: Path | None) -> str:
    ok = verdict["passed"]
    lines = [
        MARKER,
        f"# Referee: {'✅ **PASS**' if ok else '❌ **FAIL**'}",
        "",
        f"Judged adapter md5 `{verdict['candidate_md5']}` with the referee of commit `{verdict['base_sha']}` "
        "(the default branch)"
        + (f" (PR merge commit `{verdict['judged_sha']}`)" if verdict.get("judged_sha") else "")
        + ".",
        "",
    ]
    for r in verdict["rules"]:
        if r["kind"] in ("validate", "fetch") and (not r["passed"] or r.get("status") == "skipped"):
            reason = " ".join(str(r["reason"]).split()).replace("`", "'")[:600]
            lines.append(f"- {'⏭️ not run,' if r['passed'] else '❌'} {r['metric']}: `{reason}`")
    if verdict.get("sealed"):
        s = verdict["sealed"]
        lines.append(
            f"- 🔒 sealed holdout: {s['classify_items']} classify items from {s['records_kept']} sealed records "
            "(scores below: tuneloop_sealed_classify)"
        )
    if gate_report is not None and gate_report.exists():
        lines += ["", gate_report.read_text(encoding="utf-8")]
    else:
        lines += ["", "Not scored: the inputs were refused before any model was loaded."]
    lines += ["", "_Changes to evals, gate or scoring in this PR take effect for the pull requests after it merges._"]
    return "\n".join(lines) + "\n"


def check(verdict_file: str | Path) -> int:
    verdict = read_json(verdict_file)
    for r in verdict.get("rules", []):
        if not r.get("passed") and r.get("severity", "fail") == "fail":
            print(
                f"referee: FAIL {r.get('metric')} {r.get('kind')}: {r.get('reason') or r.get('value')}", file=sys.stderr
            )
    print(
        f"referee: {'PASS' if verdict.get('passed') else 'FAIL'} adapter {verdict.get('candidate_md5')} "
        f"(base {verdict.get('base_sha')})"
    )
    return 0 if verdict.get("passed") is True else 1
