# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: demo test fuzz lint format run bench migrate lock clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(PY) -m bot demo

# lint: ruff (rules in pyproject.toml) and mypy on bot/, handlers/, storage/; `make test` runs it first
lint: $(TSTAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(TSTAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(PY) -m pytest -q

# 50,000 adversarial updates with a random seed (printed; FUZZ_SEED=<seed> replays a run)
fuzz: $(TSTAMP)
	FUZZ_UPDATES=$${FUZZ_UPDATES:-50000} FUZZ_SEED=$${FUZZ_SEED:-random} $(PY) -m pytest -q -s tests/e2e/test_fuzz.py

run: $(STAMP)
	$(PY) -m bot run

migrate: $(STAMP)
	$(PY) -m bot migrate

bench: $(TSTAMP)
	$(PY) -m bench

# requirements.lock: the production install (README), pinned to the versions the tests run with, hashed
lock: $(TSTAMP)
	$(PY) -m pip install --quiet uv
	$(PY) -m pip freeze --exclude-editable > $(VENV)/tested-versions.txt
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 --no-header \
		-c $(VENV)/tested-versions.txt -o requirements.lock.new
	sed -i '/#   -c /d' requirements.lock.new
	{ sed -n '1,3p' requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp && rm requirements.lock.new
	mv requirements.lock.tmp requirements.lock

clean:
	rm -rf $(VENV) build *.egg-info
