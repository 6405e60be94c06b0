# Front door: `make run` and `make test` do all the set-up on a fresh Debian 12.
BUILD_DIR := build
JOBS ?= $(shell nproc)

.PHONY: all deps build run test bench format clean

all: build

deps:
	scripts/install-deps

$(BUILD_DIR)/build.ninja:
	cmake --preset release

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/bridgehead run

test: build
	ctest --test-dir $(BUILD_DIR) -j $(JOBS) --output-on-failure

bench: build
	bench/accept-vs-postfix

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR)
