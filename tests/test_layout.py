"""The package's house rules, read from the source (no imports executed):

- imports flow one way: cli (one module per command family) -> stage modules -> helpers -> io; no helper imports a stage, no stage
  imports another stage, and the import graph has no cycles;
- each family imports only the families it may (the subpackage docstrings say which);
- every subpackage says what it holds; no module grows past ~500 lines (as `ruff format` writes them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tuneloop.cli import STAGE_MODULES

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "tuneloop"
STAGES = set(STAGE_MODULES.values())
# family -> the tuneloop families it may import (besides itself and the shared helpers io/params/hardware)
ALLOWED = {
    "data": set(),
    "train": set(),
    "evals": {"data"},
    "gate": set(),
    "ci": {"registry"},
    "registry": set(),
    "serve": {
        "registry",
        "data",
        "evals",
    },  # serve: versions and their files; the redactor for the log; the harness's loop and grounding checks
    "referee": {"ci"},
    "monitor": {"data", "evals"},
}  # monitor: importers, redactor, example stream; the harness's label matching
SHARED = {
    "tuneloop.io",
    "tuneloop.params",
    "tuneloop.hardware",
    "tuneloop.progress",
    "tuneloop.dvc_hash",
    "tuneloop.paths",
    "tuneloop.lora_config",
    "tuneloop.prompts",  # the prompt contract: build, evaluate, the router, the server and the monitor render with it
    "tuneloop.retrieval",  # the help-center index: build, evaluate's hooks and the server retrieve with it
    "tuneloop.route",  # the router: evaluate scores it, the server runs it
    "tuneloop",
}
MAX_LINES = 500  # counted after `ruff format` (line length 120), which spreads calls over lines


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every tuneloop module a file imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tuneloop")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tuneloop"):
            for alias in node.names:  # `from tuneloop.data import split` imports the module tuneloop.data.split
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found


GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def family(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def test_every_stage_module_exists_and_has_run():
    for module in STAGES:
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        assert any(isinstance(n, ast.FunctionDef) and n.name == "run" for n in tree.body), f"{module} has no run()"


def test_no_module_imports_a_stage_except_the_cli():
    offenders = [
        (m, dep)
        for m, deps in GRAPH.items()
        for dep in deps
        if dep in STAGES and dep != m and not m.startswith("tuneloop.cli")
    ]
    assert offenders == [], f"only cli.py may import a stage module: {offenders}"


def test_lm_eval_glue_imports_no_stage():
    glue = Path(__file__).resolve().parents[1] / "evals" / "tasks" / "utils.py"
    assert not imports_of(glue) & STAGES


def test_families_import_only_what_they_may():
    offenders = []
    for module, deps in GRAPH.items():
        fam = family(module)
        if fam is None or fam == "cli":  # the CLI wires every family (and only it may: no family imports cli)
            continue
        for dep in deps - SHARED:
            dep_fam = family(dep)
            if dep_fam not in ({fam} | ALLOWED[fam]):
                offenders.append((module, dep))
    assert offenders == [], f"imports across families that the layout forbids: {offenders}"


def test_io_is_the_bottom():
    assert GRAPH["tuneloop.io"] <= {"tuneloop.paths"} and GRAPH["tuneloop.paths"] == set()


def _dvc_yaml_paths() -> set[str]:
    import yaml

    stages = yaml.safe_load((SRC.parent / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    found = set()
    for stage in stages.values():
        for key in ("outs", "metrics", "plots"):
            for entry in stage.get(key, []):
                found.add(next(iter(entry)) if isinstance(entry, dict) else entry)
    return found


def test_every_output_dvc_yaml_names_is_named_in_paths():
    """One place for the paths dvc.yaml also names: each stage output is tuneloop.paths's, or sits under one."""
    from tuneloop import paths

    named = {v.as_posix() for v in vars(paths).values() if isinstance(v, Path)}
    orphans = sorted(p for p in _dvc_yaml_paths() if p not in named and not any(p.startswith(n + "/") for n in named))
    assert orphans == [], f"dvc.yaml outputs that tuneloop/paths.py does not name: {orphans}"


def test_stages_take_their_paths_from_paths_py():
    """No stage module spells a dvc.yaml output as a literal of its own (the constants point at tuneloop.paths)."""
    outs = _dvc_yaml_paths()
    literal = {}
    for module in STAGES:
        for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in outs:
                literal.setdefault(module, []).append(node.value)
    assert literal == {}, f"spell these as tuneloop.paths constants: {literal}"


def test_import_graph_has_no_cycles():
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(GRAPH.get(node, ())):
            if dep not in GRAPH or dep == node:
                continue
            # a package's __init__ re-exporting its own submodules is not a cycle of behaviour
            if node.startswith(dep + ".") and MODULES[dep].name == "__init__.py":
                continue
            if state.get(dep) == 1:
                pytest.fail("import cycle: " + " -> ".join(path + [node, dep]))
            if dep not in state:
                visit(dep, path + [node])
        state[node] = 2

    for name in GRAPH:
        if name not in state:
            visit(name, [])


@pytest.mark.parametrize("package", sorted(p for p in MODULES if MODULES[p].name == "__init__.py"))
def test_every_subpackage_has_a_docstring(package):
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert doc and len(doc) > 40, f"{package} needs a docstring saying what it holds and what it may import"


def test_no_module_over_the_line_budget():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines (split them along their seams): {long}"


# Plumbing: where files are and how they are read or logged, not what a stage computes.
PLUMBING = {"tuneloop.io", "tuneloop.paths", "tuneloop.params", "tuneloop.hardware", "tuneloop.progress"}


def test_each_dvc_stage_depends_on_every_module_it_runs():
    """A module a stage imports (directly or not) but dvc.yaml does not list can change without `dvc repro`
    re-running the stage: the lock would vouch for outputs made by other code (the summary's thread facts
    were missing from build and evaluate, and the router from evaluate)."""
    import yaml

    stages = yaml.safe_load((SRC.parent / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    missing = {}
    for name, stage in stages.items():
        words = str(stage.get("cmd", "")).split()
        module = STAGE_MODULES.get(words[1]) if len(words) > 1 and words[0] == "tuneloop" else None
        if module is None:
            continue
        deps = [str(d) for d in stage.get("deps", [])]
        seen, todo = set(), [module]
        while todo:
            m = todo.pop()
            if m not in seen and m in MODULES:
                seen.add(m)
                todo.extend(GRAPH[m])
        for m in sorted(seen - PLUMBING):
            rel = MODULES[m].relative_to(SRC.parent).as_posix()
            if not any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps):
                missing.setdefault(name, []).append(rel)
    assert missing == {}, f"dvc.yaml stages missing the modules they run: {missing}"
