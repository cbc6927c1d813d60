# Thin wrapper: set-up, build and the two Quick-start commands. Real logic lives in CMake.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
SYSTEM_PYTHON := /usr/bin/python3
SCENARIO ?= scenarios/stoke_on_trent.toml

# Everything the project needs from Debian (installed only if missing).
DEBIAN_PACKAGES := build-essential cmake git pkg-config \
  libeigen3-dev libboost-dev libhdf5-dev hdf5-tools libtomlplusplus-dev libcli11-dev \
  librandom123-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev \
  python3 python3-dev pybind11-dev python3-numpy python3-h5py python3-pytest \
  python3-pandas python3-xarray python3-matplotlib python3-tqdm python3-scipy python3-sklearn \
  python3-nbformat python3-nbclient python3-ipykernel python3-h5netcdf netcdf-bin r-cran-ncdf4 \
  openmpi-bin libopenmpi-dev

# Sanitizer and fuzzing builds (make sanitize, make fuzz) use clang 19, the version they are
# tested with, its libFuzzer and LLVM's OpenMP with Archer (TSan); installed by those targets
# only, so `make run` stays lean.
SANITIZER_PACKAGES := clang-19 libclang-rt-19-dev libomp-19-dev
# A real browser for the HTML report's check (tests/python/test_report.py), installed by
# `make test` only, so `make run` stays lean.
TEST_PACKAGES := chromium
# A Jupyter front end for the notebooks (make jupyter), installed only by that target: the tests
# and `make notebooks` execute the notebooks without one (nbclient and ipykernel are in deps).
JUPYTER_PACKAGES := jupyter-notebook
# Notebooks `make notebooks` executes (names without .ipynb; empty: all).
NOTEBOOKS ?=
# The build's package, for the notebooks' kernels (absolute: they run in notebooks/).
PACKAGE_PATH = $(abspath $(BUILD_DIR))/python
FUZZ_SECONDS ?= 60
SANITIZE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=$(SYSTEM_PYTHON) \
  -DCONTACTSIM_PYTHON_USER_SITE=OFF -DCONTACTSIM_BUILD_BENCH=OFF
CLANG_FLAGS := -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19
# LLVM's OpenMP announces its barriers and tasks to TSan through the Archer tool; tsan.supp
# says why races inside libomp itself are ignored.
TSAN_ENV := OMP_TOOL_LIBRARIES=/usr/lib/llvm-19/lib/libarcher.so \
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/fuzz/tsan.supp"

CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPython_EXECUTABLE=$(SYSTEM_PYTHON)
ifeq ($(CI),true)
CMAKE_FLAGS += -DCONTACTSIM_WERROR=ON
endif

.PHONY: all deps configure build run test test-deps bench validate calibrate clean sanitizer-deps sanitize sanitize-asan sanitize-tsan fuzz soak notebooks jupyter-deps jupyter

all: build

deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

configure: deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Builds only the command it runs (the full build, tests and benchmarks included, is `make build`).
run: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target contactsim
	$(BUILD_DIR)/contactsim run $(SCENARIO) -o results/$(notdir $(basename $(SCENARIO))).h5 --force

test-deps: deps
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(TEST_PACKAGES)"

test: build test-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
ifeq ($(CI),true)
	$(MAKE) --no-print-directory sanitize
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30 FUZZ_SEED=1
endif

# The default city at full scale against every target of docs/validation.md (three replicates,
# about 15 minutes on 2 cores); rewrites its model column and figure, and fails if a target fails.
VALIDATE_REPLICATES ?= 3
validate: build
	$(SYSTEM_PYTHON) -m contactsim.validation --scenario scenarios/stoke_on_trent.toml --scale 1.0 \
	  --replicates $(VALIDATE_REPLICATES) --workdir results/validation --spin-up-cache results/spin-up \
	  --report docs/validation.md --figure docs/validation/baseline.png

# History matching of the baseline's behavioural parameters (three waves of 18 runs at 5% of
# the city, about an hour on 2 cores): rewrites scenarios/calibration/ (docs/validation.md).
calibrate: build
	$(SYSTEM_PYTHON) -m contactsim.baseline_calibration --cli $(BUILD_DIR)/contactsim \
	  --workdir results/calibration --out scenarios/calibration

# Regenerates the notebooks from notebooks/make_notebooks.py, executes them in fast mode with the
# build's package (as tests/python/test_notebooks.py does) and stores them with their outputs.
notebooks: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target contactsim_python
	PYTHONPATH=$(PACKAGE_PATH) $(SYSTEM_PYTHON) notebooks/make_notebooks.py --execute $(NOTEBOOKS)

jupyter-deps: deps
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(JUPYTER_PACKAGES)"

# Debian's Jupyter Notebook on /usr/bin/python3 in notebooks/, importing the build's package;
# JUPYTER_ARGS passes options (e.g. JUPYTER_ARGS="--no-browser --port 8889"). The Quick start
# may run as root, which Jupyter refuses without --allow-root.
JUPYTER_ARGS ?=
JUPYTER_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
jupyter: jupyter-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target contactsim_python
	cd notebooks && PYTHONPATH=$(PACKAGE_PATH) HDF5_USE_FILE_LOCKING=FALSE $(SYSTEM_PYTHON) -m notebook $(JUPYTER_AS_ROOT) $(JUPYTER_ARGS)

sanitizer-deps: deps
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(SANITIZER_PACKAGES)"

sanitize: sanitize-asan sanitize-tsan

# Under AddressSanitizer + UndefinedBehaviorSanitizer, in the checked build (invariants every
# day), what finds memory errors: every GoogleTest but the whole-model statistics below, the
# soak, and the crash and bindings pytest suites (the CLI's publishing paths; the pybind layer,
# which nothing else runs under ASan). ASan makes runs 5-20x slower, so two kinds are left to
# the plain build: the pytest suites labelled asan_skip (the CLI at larger scales: outputs,
# ensembles, calibration, notebooks; and analysis, Python reading the CLI's files) and
# ASAN_SKIP_TESTS: the statistical checks of the model and the reproducibility runs over whole
# cities, minutes each under ASan, whose code paths the other city runs cover. (Since tests wait
# passively and this build is -O1, the 12 other city runs once skipped here take 3.4 minutes.)
ASAN_SKIP_TESTS := ^(Reproducibility\..*|Patterns\..*)$$
sanitize-asan: deps
	cmake -S . -B build-asan $(SANITIZE_FLAGS) -DCONTACTSIM_SANITIZE=address,undefined -DCONTACTSIM_CHECKED=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) -LE asan_skip -E '$(ASAN_SKIP_TESTS)'

# The parallel kernel's multi-threaded tests under ThreadSanitizer (clang + LLVM's libomp): the
# GoogleTests that run more than one thread, and only the files holding them (their filter and
# files: CONTACTSIM_THREAD_TEST_* in tests/CMakeLists.txt).
sanitize-tsan: sanitizer-deps
	cmake -S . -B build-tsan $(SANITIZE_FLAGS) $(CLANG_FLAGS) -DCONTACTSIM_SANITIZE=thread -DCONTACTSIM_BUILD_PYTHON=OFF
	cmake --build build-tsan -j $(JOBS) --target contactsim_thread_tests
	$(TSAN_ENV) build-tsan/tests/contactsim_thread_tests --gtest_filter="$$(cat build-tsan/tests/thread_test_filter.txt)"

# Every libFuzzer target for FUZZ_SECONDS each; fails on any crash (tests/fuzz/run_fuzzers.sh).
# FUZZ_SEED fixes libFuzzer's random seed (CI: a failure there replays with the same seed);
# unset, every run explores afresh.
fuzz: sanitizer-deps
	cmake -S . -B build-fuzz $(CLANG_FLAGS) -DCMAKE_BUILD_TYPE=Release -DCONTACTSIM_FUZZ=ON \
	  -DCONTACTSIM_BUILD_TESTS=OFF -DCONTACTSIM_BUILD_PYTHON=OFF -DCONTACTSIM_BUILD_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)
	FUZZ_SEED=$(FUZZ_SEED) tests/fuzz/run_fuzzers.sh build-fuzz $(FUZZ_SECONDS)

# 50 simulated years of the default scenario (1% population) with every invariant checked daily.
soak: build
	cd $(BUILD_DIR) && ctest -R '^soak_50_years$$' --output-on-failure

bench: build
	$(BUILD_DIR)/bench/contactsim_bench --benchmark_out=$(BUILD_DIR)/bench.json --benchmark_out_format=json

clean:
	rm -rf $(BUILD_DIR)
