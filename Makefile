# The two commands: `make dev` (the local stack) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The console's browser tests drive Debian's chromium through Playwright (no browser download).
CHROMIUM := /usr/bin/chromium
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)
# Supply-chain tools (pip-audit, cyclonedx-bom, pip-tools) in their own venv, from a hashed lock.
TOOLS  := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed-stamp
DEV_LOCK := infra/locks/dev.txt
BUILD_IN := infra/locks/build.in
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# The dev environment is installed from the hashed lock only, every file checked by SHA-256
# (docs/security.md, "Supply chain"): pip first, then everything else with --require-hashes
# --no-deps, then llama-cpp-python's wheel built here from its sdist downloaded by hash, then the
# project itself without build isolation (its backend is in the lock too). `pip check` proves the
# lock complete. LOCK_SPLIT holds the lock cut in those parts (infra/dev_lock.py split).
LOCKED_STAMP := $(VENV)/.locked-stamp
LOCK_SPLIT := $(VENV)/lock
# llama-cpp-python compiles from source the first time, into .wheels/ (reused afterwards: the
# stamp is keyed on the version and holds the locked sdist hash the wheel was built from).
export CMAKE_BUILD_PARALLEL_LEVEL := 2
LLAMA_VERSION := $(shell sed -n 's/^llama[-_]cpp[-_]python==\([^ ]*\).*/\1/p' $(DEV_LOCK))
LLAMA_SDIST_SHA256 := $(shell $(PYTHON) infra/dev_lock.py hashes $(DEV_LOCK) llama-cpp-python)
WHEELS := .wheels
LLAMA_SDIST := $(WHEELS)/sdist/llama-cpp-python-$(LLAMA_VERSION)
LLAMA_WHEEL_STAMP := $(WHEELS)/.llama-cpp-python-$(LLAMA_VERSION)
# A stamp that does not hold the lock's sdist hash (an older one, or from before the wheel was
# built from a verified sdist) is rebuilt.
ifneq ($(strip $(shell cat $(LLAMA_WHEEL_STAMP) 2>/dev/null)),$(LLAMA_SDIST_SHA256))
.PHONY: $(LLAMA_WHEEL_STAMP)
endif
# A native llama.cpp build picks AMX/AVX-512 kernels that segfault on some Xeons (seen on our
# machines); a portable AVX2 build runs on every x86-64-v3 CPU at about the same speed here. It is
# built without pip's cache, which may hold a native wheel from another machine.
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
endif

.PHONY: install dev test test-fast lint typecheck format-check bench synth layer lock sbom audit deploy destroy openapi clean

# Everything in the lock but llama-cpp-python, by hash (build tools included).
$(LOCKED_STAMP): $(DEV_LOCK) infra/dev_lock.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	rm -rf $(LOCK_SPLIT)
	$(BIN)/python infra/dev_lock.py split $(DEV_LOCK) $(LOCK_SPLIT)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK_SPLIT)/pip.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK_SPLIT)/rest.txt
	touch $@

# The wheel, built from the sdist downloaded and checked against the lock's hash, with the locked
# scikit-build-core, CMake and Ninja (no build isolation: nothing unhashed fetched on the side).
$(LLAMA_WHEEL_STAMP): | $(LOCKED_STAMP)
	rm -rf $(LLAMA_SDIST) $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/python -m pip download --quiet --require-hashes --no-deps --no-binary :all: \
		--no-build-isolation --no-cache-dir -d $(LLAMA_SDIST) -r $(LOCK_SPLIT)/llama-cpp-python.txt
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel --quiet --no-cache-dir --no-deps \
		--no-build-isolation -w $(WHEELS) $(LLAMA_SDIST)/*.tar.gz
	echo "$(LLAMA_SDIST_SHA256)" > $@

$(STAMP): $(LOCKED_STAMP) $(LLAMA_WHEEL_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps --no-index --force-reinstall --find-links $(WHEELS) \
		"llama-cpp-python==$(LLAMA_VERSION)"
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

$(CHROMIUM):
	@if command -v apt-get >/dev/null 2>&1; then \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
	  echo "warning: no apt-get; install Chromium at $(CHROMIUM) for the console's e2e tests" >&2; \
	fi

install: $(STAMP) $(CHROMIUM)

$(TOOLS_STAMP): infra/locks/tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes --no-deps -r infra/locks/tools.txt
	touch $(TOOLS_STAMP)

dev: install
	$(BIN)/inference-core dev

lint: install
	$(BIN)/ruff check layers functions infra tests bench

test: install lint format-check typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Everything but the e2e suite (which starts the local stack and the real model).
test-fast: install
	$(BIN)/python -m pytest -q -m "not e2e" tests/unit tests/integration

# The package and the benchmarks, with the project's mypy config (pyproject.toml).
typecheck: install
	$(BIN)/mypy layers/shared/python/inference_core bench

format-check: install
	$(BIN)/ruff format --check layers functions infra tests bench

openapi: install
	$(BIN)/python -m inference_core.api.openapi > openapi.json

bench: install
	$(BIN)/python bench/run_all.py

synth: install
	$(BIN)/python infra/app.py

# Re-pin the Lambda layer's third-party dependencies (with their Lambda wheels' hashes) after
# changing pyproject.toml; needs the package index.
layer: install
	$(BIN)/python infra/pin_layer_requirements.py

# Re-lock the dev environment (every extra and the build tools of infra/locks/build.in, hashes of
# every file, at constraints.txt's versions) after changing pyproject.toml or constraints.txt;
# needs the package index and Python 3.11 (the dev Python; the layer's lock is `make layer`).
lock: $(TOOLS_STAMP) pyproject.toml constraints.txt $(BUILD_IN)
	@$(TOOLS)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and \
	  "make lock resolves for the dev Python, 3.11: rm -rf $(TOOLS) and run PYTHON=python3.11 make lock")'
	$(TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --extra providers --extra local --extra dev -c constraints.txt \
	  --no-emit-index-url --no-emit-find-links --output-file $(DEV_LOCK) pyproject.toml $(BUILD_IN)

# A CycloneDX SBOM of what the Lambda layer ships (its locked requirements; our package is the
# root component).
sbom: $(TOOLS_STAMP)
	mkdir -p build/sbom
	$(TOOLS)/bin/cyclonedx-py requirements --pyproject pyproject.toml --mc-type library \
	  --of JSON --output-reproducible -o build/sbom/layer.cdx.json layers/shared/requirements.txt
	@echo "wrote build/sbom/layer.cdx.json"

# pip-audit over the layer and dev locks. Fails unless EVERY package could be audited (needs the
# vulnerability service); not part of `make test`.
audit: $(TOOLS_STAMP)
	$(TOOLS)/bin/python infra/audit_locks.py

# `layer_dependencies=required` refuses to deploy a layer built without its dependencies.
deploy: install
	npx --yes aws-cdk@2 deploy --all --require-approval broadening -c layer_dependencies=required

destroy: install
	npx --yes aws-cdk@2 destroy --all

clean:
	rm -rf $(VENV) $(TOOLS) $(WHEELS) .local cdk.out .pytest_cache build
