# vcsa_exporter: `make demo` to see it run, `make test` to prove it works. Both install what is missing.
SHELL := /bin/bash
# Debian packages the build, the tests and the demo need.
DEB_PACKAGES := libmicrohttpd-dev zlib1g-dev libcrypt-dev libyaml-dev pkg-config openssl curl gzip prometheus \
	python3 python3-venv python3-yaml yamllint
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Writes the git revision for vcsa_exporter_build_info before every `swift build` below.
REVISION := bash packaging/revision.sh
# Python tools Debian does not package (deploy/test.sh), from PyPI into a project virtual environment.
VENV := .venv
# Debian's interpreter, with python3-venv and python3-yaml (not another python3 first in PATH).
DEBIAN_PYTHON := /usr/bin/python3

.PHONY: deps venv build release test unit-test deploy-test demo bench clean

deps:
	@missing=""; for package in $(DEB_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Remade from scratch when deploy/requirements.txt changes.
$(VENV)/.installed: deploy/requirements.txt | deps
	rm -rf $(VENV)
	$(DEBIAN_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r deploy/requirements.txt
	touch $@

venv: $(VENV)/.installed

build: deps
	$(REVISION)
	swift build

release: deps
	$(REVISION)
	swift build -c release

# The whole suite: Swift unit and integration tests on the real binaries, then the deploy/ checks.
test: unit-test deploy-test

unit-test: deps
	$(REVISION)
	swift build --build-tests
	swift test

deploy-test: deps venv
	BIN_DIR=$$(swift build --show-bin-path) VENV=$(VENV) PYTHON=$(DEBIAN_PYTHON) bash deploy/test.sh

demo: build
	BIN_DIR=$$(swift build --show-bin-path) bash deploy/demo.sh

bench: release
	BIN_DIR=$$(swift build -c release --show-bin-path) bash bench/run.sh

clean:
	rm -rf .build $(VENV) Sources/VCSAExporter/Generated
