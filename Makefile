# Front door: `make run` and `make test` do all the set-up on a fresh Debian 12.
BUILD_DIR := build
JOBS ?= $(shell nproc)

.PHONY: all deps build run test bench fuzz format clean

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

# Real fuzzing with clang's libFuzzer (ASan + UBSan); new inputs land in build/fuzz-corpus.
FUZZ_SECONDS ?= 300
FUZZ_SOURCES := fuzz/session_fuzz.cpp src/util/result.cpp $(wildcard src/mail/*.cpp) \
  $(wildcard src/smtp/proto/*.cpp) src/smtp/server/session_machine.cpp \
  src/smtp/server/session_content.cpp src/smtp/server/received_header.cpp \
  $(wildcard src/policy/*.cpp) src/tls/name_match.cpp
fuzz:
	scripts/install-deps --fuzz
	mkdir -p $(BUILD_DIR)/fuzz-corpus
	clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Isrc $(FUZZ_SOURCES) \
	  -lfmt -o $(BUILD_DIR)/session_fuzz
	$(BUILD_DIR)/session_fuzz -max_total_time=$(FUZZ_SECONDS) $(BUILD_DIR)/fuzz-corpus \
	  fuzz/corpus/session

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR)
