"""A copy of this checkout for the end-to-end tests: what a clone has, on the tiny model, evals shrunk."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
E2E_EVAL_SIZES = {"tasks.tuneloop_classify": (24, 8), "tasks.tuneloop_reply": (4, 16)}


def sh(*cmd: str, cwd: Path) -> str:
    """A command as a user types it (this venv's tools first); fails the test with its output."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def copy_checkout(dest: Path, tiny_model_dir: Path, eval_sizes: dict) -> Path:
    """The files git tracks (and untracked, unignored ones), the tiny model as conf/model/tiny-random,
    and conf/eval's layers cut to eval_sizes ({layer.task: (limit, max_gen_toks)})."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    model = dest / "conf/model/tiny-random.yaml"
    model.write_text(model.read_text().replace("local_path: ???", f"local_path: {tiny_model_dir}"))
    ev = yaml.safe_load((dest / "conf/eval/default.yaml").read_text())
    for key, (limit, toks) in {**eval_sizes, **E2E_EVAL_SIZES}.items():
        layer, task = key.split(".")
        ev["layers"][layer][task].update(limit=limit, max_gen_toks=toks)
    (dest / "conf/eval/default.yaml").write_text(yaml.safe_dump(ev))
    return dest


def without_critical(root: Path) -> None:
    """For scratch projects whose conf/eval runs no probe layer: drop the `critical` marks from their copy of
    evals/ and re-freeze it (critical items that are never scored fail the gate closed, by design)."""
    import json

    from tuneloop.evals import suite

    for path in [*sorted((root / "evals" / "probes").glob("*.jsonl")), root / "evals" / "regression" / "cases.jsonl"]:
        if path.exists():
            rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            for row in rows:
                row.pop("critical", None)
                row.pop("why_critical", None)
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    old = os.getcwd()
    os.chdir(root)
    try:
        suite.freeze()
    finally:
        os.chdir(old)
