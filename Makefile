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

# Real fuzzing with clang's libFuzzer (ASan + UBSan); new inputs land in build/fuzz-corpus-*.
# FUZZ_TARGET=session (the SMTP server session) or parsers (queue files, replies, headers, CSV).
FUZZ_SECONDS ?= 300
FUZZ_TARGET ?= session
FUZZ_CORE := src/util/result.cpp $(wildcard src/mail/*.cpp) $(wildcard src/smtp/proto/*.cpp) \
  src/smtp/server/session_machine.cpp src/smtp/server/session_content.cpp \
  src/smtp/server/session_envelope.cpp src/smtp/server/session_deadlines.cpp \
  src/smtp/server/received_header.cpp $(wildcard src/policy/*.cpp) src/tls/name_match.cpp
FUZZ_EXTRA_session :=
FUZZ_EXTRA_parsers := src/queue/spool_format.cpp src/queue/checksum.cpp src/directory/sqlite_directory.cpp
fuzz:
	scripts/install-deps --fuzz
	mkdir -p $(BUILD_DIR)/fuzz-corpus-$(FUZZ_TARGET)
	clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Isrc \
	  fuzz/$(FUZZ_TARGET)_fuzz.cpp $(FUZZ_CORE) $(FUZZ_EXTRA_$(FUZZ_TARGET)) \
	  -lfmt -lsqlite3 -o $(BUILD_DIR)/$(FUZZ_TARGET)_fuzz
	$(BUILD_DIR)/$(FUZZ_TARGET)_fuzz -max_total_time=$(FUZZ_SECONDS) \
	  $(BUILD_DIR)/fuzz-corpus-$(FUZZ_TARGET) fuzz/corpus/$(FUZZ_TARGET)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR)
