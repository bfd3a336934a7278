# vcsa_exporter: `make demo` to see it run, `make test` to prove it works. Both install what is missing.
SHELL := /bin/bash
# Debian packages the build, the tests and the demo need (chromium: the tests render the landing page in a real browser).
DEB_PACKAGES := libmicrohttpd-dev zlib1g-dev libcrypt-dev libyaml-dev pkg-config openssl curl gzip prometheus chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build release test unit-test deploy-test resilience-test soak demo bench clean

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

# The whole suite: Swift unit and integration tests on the real binaries, the attacks on them, then the deploy/ checks.
test: unit-test resilience-test deploy-test

# The attacks hold every scrape to its deadline, so they run on their own, not beside a hundred other tests on 2 cores.
unit-test: deps
	swift build --build-tests
	swift test --skip ResilienceTests

deploy-test: deps
	BIN_DIR=$$(swift build --show-bin-path) bash deploy/test.sh

# The attacks on the real binaries (abusive clients, a faulty appliance, signals under load).
resilience-test: deps
	swift build --build-tests
	swift test --filter ResilienceTests

# 10,000 scrapes across every simulator scenario; fails on growing descriptors or memory, or a leaked session.
soak: build
	BIN_DIR=$$(swift build --show-bin-path) bash Tests/soak.sh

demo: build
	BIN_DIR=$$(swift build --show-bin-path) bash deploy/demo.sh

bench: release
	BIN_DIR=$$(swift build -c release --show-bin-path) bash bench/run.sh

clean:
	rm -rf .build
