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
  python3-pandas python3-xarray python3-matplotlib python3-tqdm python3-scipy \
  python3-nbformat python3-nbclient python3-ipykernel \
  openmpi-bin libopenmpi-dev

CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPython_EXECUTABLE=$(SYSTEM_PYTHON)
ifeq ($(CI),true)
CMAKE_FLAGS += -DCONTACTSIM_WERROR=ON
endif

.PHONY: all deps configure build run test bench clean soak

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

run: build
	$(BUILD_DIR)/contactsim run $(SCENARIO) -o results/$(notdir $(basename $(SCENARIO))).h5 --force

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# 50 simulated years of the default scenario (1% population) with every invariant checked daily.
soak: build
	cd $(BUILD_DIR) && ctest -R '^soak_50_years$$' --output-on-failure

bench: build
	$(BUILD_DIR)/bench/contactsim_bench --benchmark_out=$(BUILD_DIR)/bench.json --benchmark_out_format=json

clean:
	rm -rf $(BUILD_DIR)
