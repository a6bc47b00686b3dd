# Two commands do all the setup on a fresh Debian 12 machine:
#   make run    installs what is missing, builds, and opens the window on the default model
#   make test   installs what is missing, builds, and runs the whole suite through CTest
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian 12 packages the project needs to build, test and run.
DEB_PACKAGES := build-essential cmake pkgconf qt6-base-dev qt6-base-dev-tools \
  libqcustomplot-dev libhdf5-dev nlohmann-json3-dev libzip-dev zlib1g-dev \
  libopenblas-dev dataset-fashion-mnist xvfb xauth libgl-dev \
  libcli11-dev libsentencepiece-dev clang-format-14
# Extra packages for the sanitizer and fuzzing builds (make sanitize, make fuzz).
DEB_CLANG_PACKAGES := clang-14 libclang-rt-14-dev

.PHONY: deps deps-clang configure build run test bench sanitize fuzz-build fuzz fuzz-ci clean

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	  | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

deps-clang:
	@missing=$$(for p in $(DEB_CLANG_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	  | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$QT_QPA_PLATFORM" != offscreen ]; then \
	  echo "No display found: starting the window under xvfb-run"; \
	  xvfb-run -a $(BUILD_DIR)/app/compression-workbench $(ARGS); \
	else $(BUILD_DIR)/app/compression-workbench $(ARGS); fi

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	./bench/run_all.sh $(BUILD_DIR)

# ASan + UBSan build of the whole suite, in its own build folder. Suppressions for
# third-party code are set per test by tests/CMakeLists.txt. The CPU code only: the sanitizers
# cannot see into CUDA kernels, which compute-sanitizer checks on a GPU (bench/results/cuda.md).
sanitize: deps deps-clang
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCWB_SANITIZE=ON -DCWB_WITH_CUDA=OFF \
	  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (fuzz/), built with clang-14 in build-fuzz. `make fuzz` runs each for
# FUZZ_SECONDS (FUZZ_ENTRIES picks some: make fuzz FUZZ_ENTRIES=idx FUZZ_SECONDS=600).
FUZZ_SECONDS ?= 60
fuzz-build: deps deps-clang
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCWB_FUZZ=ON -DCWB_WITH_UI=OFF \
	  -DCWB_WITH_CUDA=OFF -DBUILD_TESTING=OFF -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
	cmake --build build-fuzz -j $(JOBS) --target fuzzers

# Each fuzzer is one process on one core, so JOBS of them run side by side; any finding
# fails the target once every fuzzer has run.
fuzz: fuzz-build
	@printf '%s\n' $${FUZZ_ENTRIES:-$$(cat build-fuzz/fuzz-entries.txt)} | \
	  xargs -P $(JOBS) -I ENTRY fuzz/run.sh build-fuzz ENTRY $(FUZZ_SECONDS)

# What CI runs: every fuzzer for 60 s.
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=60

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz
