# genlab: `make demo` and `make test` each set themselves up (idempotently) on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.genlab-installed
DATA   := /usr/share/datasets/fashion-mnist

.PHONY: setup data demo test quicktest lint bench clean

setup: $(STAMP)

# The CPU build of torch first (a bare `torch` requirement would pull a multi-GB CUDA build),
# then genlab itself with its test extras.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test,tensorboard,table]"
	touch $(STAMP)

# Debian's Fashion-MNIST package when we can install it; otherwise genlab downloads the data.
data:
	@if [ ! -d $(DATA) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get install -y -q dataset-fashion-mnist >/dev/null || echo "apt-get failed: genlab will download the data"; \
	fi

demo: setup data
	$(PY) -m genlab.demo --out runs/demo

test: setup data
	$(PY) -m pytest --durations=25

quicktest: setup
	$(PY) -m pytest -m "not slow"

lint: setup
	$(VENV)/bin/ruff check src tests bench

# Each benchmark writes bench/results/NAME.json; then the README's results table is rendered
# from those files (tests/test_readme_results.py checks that the two agree).
bench: setup data
	$(PY) -m pip install -q --disable-pip-version-check -e ".[bench]"
	$(PY) bench/classifier.py
	$(PY) bench/classifier_variants.py
	$(PY) bench/curve_gan.py
	$(PY) bench/integer_gan.py
	$(PY) bench/seeds.py
	$(PY) bench/csv_gan.py
	$(PY) bench/table_gan.py --part real
	$(PY) bench/table_gan.py --part genlab --seeds 0 1 2
	$(PY) bench/table_gan.py --part gaussiancopula --seeds 0 1 2
	$(PY) bench/table_gan.py --part ctgan --seeds 0
	$(PY) bench/table_gan.py --part tvae --seeds 0
	$(PY) bench/table_gan.py --part emit
	$(PY) bench/table_scale.py
	$(PY) bench/distributed.py
	$(PY) bench/image_gan_book.py --threads 1
	$(PY) bench/image_gan.py --threads 1
	$(PY) bench/loop_times.py
	$(PY) bench/table.py --write

clean:
	rm -rf runs build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
