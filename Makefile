# The two README commands: `make demo` (install, make the shapes data, train + evaluate
# RetinaNet-LowFormer-B1 on it) and `make test`. Both install .venv first (idempotent).
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CONFIG ?= configs/detection/retinanet_lowformer_b1_shapes.py
DEMO_WORK_DIR ?= work_dirs/demo_retinanet_lowformer_b1_shapes
PYTEST_ARGS ?=

.PHONY: install demo test install-check
install:
	bash tools/install.sh

demo: install
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) $(DEMO_WORK_DIR) --work-dir $(DEMO_WORK_DIR)/test

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

# before a release: fresh clone, empty caches, mmcv from source, then demo and tests (timed)
install-check:
	bash tools/install_check.sh
