# vcsa_exporter: `make demo` to see it run, `make test` to prove it works. Both install what is missing.
SHELL := /bin/bash
# Debian packages the build, the tests and the demo need.
DEB_PACKAGES := libmicrohttpd-dev zlib1g-dev libcrypt-dev pkg-config openssl curl gzip prometheus
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build release test unit-test deploy-test demo bench fuzz sanitize clean

deps:
	@missing=""; for package in $(DEB_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	swift build

release: deps
	swift build -c release

# The whole suite: Swift unit and integration tests on the real binaries, then the deploy/ checks.
test: unit-test deploy-test

unit-test: deps
	swift build --build-tests
	swift test

deploy-test: deps
	BIN_DIR=$$(swift build --show-bin-path) bash deploy/test.sh

demo: build
	BIN_DIR=$$(swift build --show-bin-path) bash deploy/demo.sh

bench: release
	BIN_DIR=$$(swift build -c release --show-bin-path) bash bench/run.sh

# libFuzzer targets of Fuzz/ (see Fuzz/README.md), each run for FUZZ_SECONDS; fails on any crash.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash Fuzz/run.sh

# The Swift tests under ThreadSanitizer, then AddressSanitizer (sanitize/run.sh); fails on any report.
sanitize: deps
	bash sanitize/run.sh

clean:
	rm -rf .build .build-fuzz .build-tsan .build-asan
