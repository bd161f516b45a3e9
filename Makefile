# The two commands a new user needs: `make serve` (assistant on the bundled corpus) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCAL_STAMP := $(VENV)/.local-llm-stamp

.PHONY: install serve test lint bench train clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# CPU torch first, or pip pulls a multi-GB CUDA build for sentence-transformers.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# The in-process GGUF backend (llama-cpp-python compiles: ~9 minutes on 2 cores, once per machine
# thanks to pip's wheel cache). `make serve` does not need it; the tests exercise it for real.
$(LOCAL_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench,local]'
	touch $(LOCAL_STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/rag ingest
	$(BIN)/rag serve

test: $(STAMP) $(LOCAL_STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# The evidence model (rag/generate/evidence_model.json) from CMRC 2018 trial and DRCD dev, with its
# held-out quality in bench/results/evidence_model.json. Deterministic; minutes on two cores.
train: $(STAMP)
	$(BIN)/rag train

bench: $(STAMP)
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .rag
