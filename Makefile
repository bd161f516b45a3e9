# The two commands a new user needs: `make serve` (assistant on the bundled corpus) and `make test`.
# Each installs what it needs: the core (library and CLI: `pip install -e .`), then the extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE_STAMP := $(VENV)/.core-stamp
SERVE_STAMP := $(VENV)/.serve-stamp
DEV_STAMP := $(VENV)/.dev-stamp
LOCAL_STAMP := $(VENV)/.local-llm-stamp
DEV_EXTRAS := test,bench,ui,api,mcp,ocr

.PHONY: install serve test lint bench train clean

$(CORE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# CPU torch first, or pip pulls a multi-GB CUDA build for sentence-transformers.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# `make serve`: the web UI on top of the core, with OCR for scanned PDFs and images.
$(SERVE_STAMP): $(CORE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[ui,ocr]'
	touch $@

# Development: tests, benchmarks and every server (rag serve, rag api, rag mcp).
$(DEV_STAMP): $(CORE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[$(DEV_EXTRAS)]'
	touch $@

# The in-process GGUF backend (llama-cpp-python compiles: ~9 minutes on 2 cores). `make serve` does
# not need it; the tests exercise it for real. Built for any x86-64 with AVX2, not for this CPU: the
# native build of 0.3.36 segfaults on every prompt batch on Intel Xeons with AMX (seen 2026-12-02),
# and pip's wheel cache would hand a native wheel built elsewhere to this machine, hence no cache.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF
$(LOCAL_STAMP): $(DEV_STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet --no-cache-dir \
		--no-binary llama-cpp-python -e '.[$(DEV_EXTRAS),local]'
	touch $@

install: $(DEV_STAMP)

serve: $(SERVE_STAMP)
	$(BIN)/rag ingest
	$(BIN)/rag serve

test: $(LOCAL_STAMP)
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# The evidence model (rag/generate/evidence_model.json) from CMRC 2018 trial and DRCD dev, with its
# held-out quality in bench/results/evidence_model.json. Deterministic; minutes on two cores.
train: $(DEV_STAMP)
	$(BIN)/rag train

bench: $(DEV_STAMP)
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .rag
