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
# FUZZ_TARGET=session (the SMTP server session), parsers (queue files, replies, headers, CSV)
# or smpp (the SMPP codec and session machine).
FUZZ_SECONDS ?= 300
FUZZ_TARGET ?= session
# The pure core, as CMakeLists.txt lists it for bh_core (one list, no drift).
FUZZ_CORE := $(shell sed -n '/^add_library(bh_core/,/^)/p' CMakeLists.txt | grep -o 'src/[^ ]*\.cpp')
FUZZ_EXTRA_session :=
FUZZ_EXTRA_parsers := src/queue/spool_format.cpp src/queue/checksum.cpp src/directory/users_csv.cpp \
  src/directory/csv.cpp src/directory/validate.cpp src/directory/phone_number.cpp \
  -I.deps/phonenumber/usr/include -lphonenumber -lprotobuf
FUZZ_EXTRA_smpp := src/connectors/sms/smpp_pdu.cpp src/connectors/sms/smpp_pdu_fields.cpp \
  src/connectors/sms/smpp_session.cpp
fuzz:
	scripts/install-deps --fuzz
	mkdir -p $(BUILD_DIR)/fuzz-corpus-$(FUZZ_TARGET)
	clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Isrc \
	  fuzz/$(FUZZ_TARGET)_fuzz.cpp $(FUZZ_CORE) $(FUZZ_EXTRA_$(FUZZ_TARGET)) \
	  -lfmt -lcrypto -lre2 -o $(BUILD_DIR)/$(FUZZ_TARGET)_fuzz
	$(BUILD_DIR)/$(FUZZ_TARGET)_fuzz -max_total_time=$(FUZZ_SECONDS) \
	  $(BUILD_DIR)/fuzz-corpus-$(FUZZ_TARGET) fuzz/corpus/$(FUZZ_TARGET)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR)
