"""The adapter registry as GTO git tags: register, promote, rollback, stock, and the table of versions.

    tuneloop registry register --verdict referee.json      # adapter@v<N>.0.0 on HEAD (md5 from dvc.lock)
    tuneloop registry promote v2.0.0 --stage production    # adapter#production#<k> (+ the old one unassigned)
    tuneloop registry rollback                             # the production version before the current one
    tuneloop registry stock                                # no production version: the server serves the base
    tuneloop registry list                             # versions, stages, verdicts, metrics, data/base hashes

Every change is an annotated git tag in GTO's format (artifact `adapter`, declared in artifacts.yaml,
stages in .gto), written through GTO's API; nothing is ever deleted. GTO itself lets several versions
hold a stage at once; tuneloop keeps exactly one per stage: a promotion assigns the new version first,
then unassigns the one it replaces (so a reader between the two tags still sees a holder, the newer),
and the holder of a stage is the version with the latest assignment (GTO's per-artifact counter
orders the tags; a git timestamp has only one-second resolution). Rollback undoes the latest change of
production (promote or stock), as a stack: rollback twice returns two steps.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tuneloop import paths
from tuneloop.registry import tag_message as verdicts

ARTIFACT = "adapter"
ADAPTER_PATH = paths.ADAPTER_DIR.as_posix()
STAGES = ("staging", "production")
VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
SEP = "\x1f"  # between fields of one tag, and \x1e between tags (tag messages span lines)


class RegistryError(RuntimeError):
    """A registry operation that cannot be done, with the reason."""


@dataclass
class Version:
    name: str
    commit: str
    tag: str
    info: dict[str, Any]
    verdict: dict[str, Any] | None
    deregistered: bool = False

    @property
    def md5(self) -> str:
        return str(self.info.get("adapter_md5", ""))


@dataclass
class Event:
    counter: int
    stage: str
    action: str  # assign | unassign
    version: str
    message: str
    tag: str = ""


@dataclass
class State:
    versions: dict[str, Version] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def holder(self, stage: str, upto: int | None = None) -> str | None:
        """The version holding `stage` (after event counter `upto`): the latest one still assigned."""
        last: dict[str, Event] = {}
        for e in self.events:
            if e.stage == stage and (upto is None or e.counter <= upto):
                last[e.version] = e
        held = [e for e in last.values() if e.action == "assign"]
        return max(held, key=lambda e: e.counter).version if held else None

    def production_stack(self) -> list[str | None]:
        """Production holders in order, rollbacks popped: [..., previous, current] (None = stock)."""
        stack: list[str | None] = []
        before: str | None = None
        for e in (e for e in self.events if e.stage == "production"):
            now = self.holder("production", e.counter)
            if now == before:
                continue
            if e.message.startswith("rollback") and len(stack) >= 2:
                stack.pop()
            else:
                stack.append(now)
            before = now
        return stack


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if done.returncode:
        raise RegistryError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def normalize_md5(md5: str) -> str:
    return md5.removesuffix(".dir")


class Registry:
    def __init__(self, repo: str | Path = "."):
        self.repo = Path(repo).resolve()

    # --- reading -----------------------------------------------------------------------------------
    def state(self) -> State:
        from gto.tag import parse_name

        fmt = SEP.join(["%(refname:strip=2)", "%(objectname)", "%(*objectname)", "%(contents)"]) + "\x1e"
        out = _git(self.repo, "for-each-ref", f"--format={fmt}", f"refs/tags/{ARTIFACT}@*", f"refs/tags/{ARTIFACT}#*")
        state, by_commit, stage_tags = State(), {}, []
        for record in filter(str.strip, out.split("\x1e")):
            name, obj, peeled, message = record.strip("\n").split(SEP, 3)
            commit = peeled or obj
            try:
                parsed = parse_name(name)
            except Exception:  # noqa: BLE001 - a tag that only looks like GTO's
                continue
            if parsed.get("name") != ARTIFACT:
                continue
            if "version" in parsed:
                if not VERSION.fullmatch(parsed["version"]):
                    continue
                if parsed["action"].value == "deregister":
                    if parsed["version"] in state.versions:
                        state.versions[parsed["version"]].deregistered = True
                    continue
                info, verdict = verdicts.from_message(message)
                state.versions[parsed["version"]] = Version(parsed["version"], commit, name, info, verdict)
                by_commit[commit] = parsed["version"]
            elif "stage" in parsed:
                stage_tags.append((parsed, commit, message, name))
        for parsed, commit, message, name in stage_tags:
            if commit in by_commit:
                state.events.append(
                    Event(
                        int(parsed["counter"]),
                        parsed["stage"],
                        parsed["action"].value,
                        by_commit[commit],
                        message.strip(),
                        name,
                    )
                )
        state.events.sort(key=lambda e: e.counter)
        return state

    def version(self, name: str, state: State | None = None) -> Version:
        state = state or self.state()
        if name not in state.versions:
            known = ", ".join(sorted(state.versions, key=_version_key)) or "none yet"
            raise RegistryError(f"unknown version {name!r} of {ARTIFACT} (registered: {known})")
        return state.versions[name]

    def table(self) -> list[dict[str, Any]]:
        """One row per version, newest first: stage, verdict, key metrics, data and base hashes."""
        state = self.state()
        holders = {stage: state.holder(stage) for stage in STAGES}
        rows = []
        for v in sorted(state.versions.values(), key=lambda v: _version_key(v.name), reverse=True):
            stages = [s for s in STAGES if holders[s] == v.name]
            ever = {e.stage for e in state.events if e.version == v.name and e.action == "assign"}
            status = ", ".join(stages) or ("deprecated" if v.deregistered else "archived" if ever else "registered")
            rows.append(
                {
                    "version": v.name,
                    "stage": status,
                    "commit": v.commit[:10],
                    "adapter_md5": v.md5,
                    "verdict": "missing" if v.verdict is None else "passed" if v.verdict["passed"] else "failed",
                    "metrics": v.info.get("metrics", {}),
                    "data_md5": v.info.get("data_md5", {}),
                    "base_md5": v.info.get("base_md5", ""),
                }
            )
        return rows

    # --- writing -----------------------------------------------------------------------------------
    def register(
        self, rev: str = "HEAD", verdict: dict[str, Any] | None = None, lock: str = "dvc.lock", push: bool = False
    ) -> Version:
        """Register the adapter that `lock` at `rev` records, with the referee's verdict (if given)."""
        from gto import api

        commit = _git(self.repo, "rev-parse", f"{rev}^{{commit}}").strip()
        info = version_info(self.repo, commit, lock)
        state = self.state()
        for v in state.versions.values():
            if normalize_md5(v.md5) == normalize_md5(info["adapter_md5"]):
                raise RegistryError(f"adapter md5 {info['adapter_md5']} is already registered as {v.name}")
        if verdict is not None and normalize_md5(verdict["candidate_md5"]) != normalize_md5(info["adapter_md5"]):
            raise RegistryError(
                f"the verdict judged adapter md5 {verdict['candidate_md5']}, but {lock} at "
                f"{commit[:10]} records {info['adapter_md5']}: refusing to attach it"
            )
        major = max((_version_key(v)[0] for v in state.versions), default=0) + 1
        name = f"v{major}.0.0"
        api.register(
            str(self.repo), ARTIFACT, ref=commit, version=name, message=verdicts.tag_message(info, verdict), push=push
        )
        return self.version(name)

    def promote(self, name: str, stage: str, push: bool = False, action: str = "promote") -> dict[str, Any]:
        if stage not in STAGES:
            raise RegistryError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
        state = self.state()
        version = self.version(name, state)
        if version.deregistered:
            raise RegistryError(f"{name} is deregistered (deprecated); register a new version instead")
        try:
            verdicts.require_pass(_normalized(version.verdict), normalize_md5(version.md5), name)
        except verdicts.VerdictError as exc:
            raise RegistryError(f"refused: {exc}") from exc
        previous = state.holder(stage)
        if previous == name:
            raise RegistryError(f"{name} already holds {stage}")
        self._assign(name, stage, f"{action}: {name} to {stage}" + (f" (was {previous})" if previous else ""), push)
        if previous:  # exactly one holder per stage: release the old one, after the new one holds it
            self._unassign(previous, stage, f"{action}: {previous} leaves {stage} for {name}", push)
        return {"stage": stage, "version": name, "previous": previous, "adapter_md5": version.md5}

    def rollback(self, push: bool = False) -> dict[str, Any]:
        state = self.state()
        stack = state.production_stack()
        if len(stack) < 2:
            raise RegistryError("nothing to roll back to: production has had no earlier holder")
        current, target = stack[-1], stack[-2]
        if target is None:
            return {**self.stock(push, action="rollback"), "previous": current}
        return self.promote(target, "production", push, action="rollback")

    def stock(self, push: bool = False, action: str = "stock") -> dict[str, Any]:
        """No production version: the server answers with the base model alone."""
        current = self.state().holder("production")
        if current is None:
            raise RegistryError("production already serves the stock base model")
        self._unassign(current, "production", f"{action}: {current} leaves production; serve the stock base", push)
        return {"stage": "production", "version": None, "previous": current}

    def _assign(self, name: str, stage: str, message: str, push: bool) -> None:
        from gto import api

        api.assign(str(self.repo), ARTIFACT, stage, version=name, message=message, force=True, push=push)

    def _unassign(self, name: str, stage: str, message: str, push: bool) -> None:
        from gto import api

        api.unassign(str(self.repo), ARTIFACT, version=name, stage=stage, message=message, push=push)


def _normalized(verdict: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if verdict is None else {**verdict, "candidate_md5": normalize_md5(verdict["candidate_md5"])}


def _version_key(name: str) -> tuple[int, int, int]:
    m = VERSION.fullmatch(name)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)


def version_info(repo: Path, commit: str, lock: str = "dvc.lock") -> dict[str, Any]:
    """What a registration records, read from git at `commit`: the adapter md5 (dvc.lock), the md5s of
    the data and base it was trained on (the train stage's deps) and the headline metrics."""
    try:
        parsed = yaml.safe_load(_git(repo, "show", f"{commit}:{lock}"))
    except RegistryError as exc:
        raise RegistryError(f"no {lock} at {commit[:10]}: has the pipeline run and been committed?") from exc
    for stage_name, stage in (parsed.get("stages") or {}).items():
        outs = {o.get("path"): o.get("md5") for o in stage.get("outs") or []}
        if outs.get(ADAPTER_PATH):
            deps = {d.get("path"): d.get("md5") for d in stage.get("deps") or []}
            info = {
                "adapter_md5": outs[ADAPTER_PATH],
                "stage": stage_name,
                "commit": commit,
                "base_md5": deps.get("models/base", ""),
                "data_md5": {p: m for p, m in deps.items() if p.startswith("data/")},
            }
            break
    else:
        raise RegistryError(f"{lock} at {commit[:10]} records no {ADAPTER_PATH} output (has the train stage run?)")
    try:
        summary = json.loads(_git(repo, "show", f"{commit}:metrics/summary.json"))
    except (RegistryError, json.JSONDecodeError):
        summary = {}
    info["metrics"] = key_metrics(summary)
    return info


def key_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The few numbers the registry table shows, from metrics/summary.json: the gate verdict and the
    post value of each headline metric (`classify.acc`), flat."""
    out: dict[str, Any] = {}
    gate = summary.get("gate") or {}
    if "passed" in gate:
        out["gate"] = "PASS" if gate["passed"] else "FAIL"
    for task, metrics in summary.items():
        if task in ("gate", "leaks", "train") or not isinstance(metrics, dict):
            continue
        for metric, entry in metrics.items():
            if isinstance(entry, dict) and entry.get("post") is not None:
                out[f"{task}.{metric}"] = entry["post"]
    return dict(list(out.items())[:6])
