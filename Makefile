# vcsa_exporter: `make demo` to see it run, `make test` to prove it works. Both install what is missing.
SHELL := /bin/bash
# Debian packages the build, the tests and the demo need (chromium: the tests render the landing page in a real browser).
DEB_PACKAGES := libmicrohttpd-dev zlib1g-dev libcrypt-dev libyaml-dev pkg-config openssl curl gzip prometheus chromium \
	python3 python3-venv python3-yaml yamllint
# Debian packages `make fuzz` needs besides: libxml2's HTML parser checks the landing page.
FUZZ_DEB_PACKAGES := libxml2-dev
# Debian packages `make dist` and `make dist-test` need besides: dpkg-shlibdeps, help2man, strip, lintian.
DIST_DEB_PACKAGES := dpkg-dev help2man binutils lintian man-db
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The version, from the one place it is written.
VERSION := $(shell sed -n 's/^ *public static let version = "\(.*\)"$$/\1/p' Sources/VCSAExporter/BuildInfo.swift)
# The Debian revision of the package built from this version.
DEB_REVISION := 1
DEB := dist/vcsa-exporter_$(VERSION)-$(DEB_REVISION)_amd64.deb
# Python tools Debian does not package (deploy/test.sh), from PyPI into a project virtual environment.
VENV := .venv
# Debian's interpreter, with python3-venv and python3-yaml (not another python3 first in PATH).
DEBIAN_PYTHON := /usr/bin/python3
# Writes the git revision for vcsa_exporter_build_info before every `swift build` below.
REVISION := bash packaging/revision.sh
# How the shipped binary is built and stripped: `make dist`, `make bench` and deploy/docker/Dockerfile
# (`make -s print-SHIPPED_FLAGS`) all use these two, so that users get the binary the bench measures.
# Besides the Swift runtime linked in, no RUNPATH (Debian forbids one to the toolchain) and BIND_NOW
# (hardening), they keep the resident set small (issue 9; numbers in bench/README.md):
#   -Osize                                    smaller code; no slower in `make bench`
#   -function-sections, -ffunction-sections   every function in its own section, Swift and C alike,
#                                             so that the linker can drop and place each one
#   lld, --no-export-dynamic                  SwiftPM exports every symbol of the executable (25,700:
#                                             2.4 MB of symbol tables, read at every start, and roots
#                                             that --gc-sections cannot drop); nothing needs them
#   -z pack-relative-relocs                   PIE's 73,000 relocations in 14 KB instead of 1.7 MB
#                                             (DT_RELR: glibc 2.36 or later); ASLR stays
#   --symbol-ordering-file                    the functions a start and a scrape run, laid out
#                                             together: packaging/symbol-order.sh
SHIPPED_FLAGS := -c release --static-swift-stdlib --disable-local-rpath \
	-Xswiftc -Osize -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
	-Xswiftc -use-ld=lld -Xlinker --no-export-dynamic -Xlinker -z -Xlinker now \
	-Xlinker -z -Xlinker pack-relative-relocs \
	-Xlinker --symbol-ordering-file=$(CURDIR)/packaging/vcsa_exporter.order -Xlinker --no-warn-symbol-ordering
SHIPPED_STRIP := strip --strip-unneeded --remove-section=.comment --remove-section=.note

.PHONY: deps dist-deps venv build release test unit-test lean-check deploy-test resilience-test soak demo bench bench-build scale symbol-order fuzz sanitize dist dist-test clean

define apt_install
	@missing=""; for package in $(1); do dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(DEB_PACKAGES))

dist-deps:
	$(call apt_install,$(DIST_DEB_PACKAGES))

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

# The whole suite: Swift unit and integration tests on the real binaries, the attacks on them, then the deploy/ checks.
# (`make dist-test` is not part of it: see the README.)
test: unit-test lean-check resilience-test deploy-test

# The exporter links FoundationEssentials only: full Foundation and ICU add megabytes of code to every process.
# Checked on the dynamically linked build (a release build links the Swift libraries statically, where ldd cannot see them).
lean-check: unit-test
	@exporter=$$(swift build --show-bin-path)/vcsa_exporter; \
	if ldd "$$exporter" | grep -E 'libFoundation\.so|libFoundationInternationalization\.so|lib_FoundationICU\.so'; then \
		echo "lean-check: FAIL: $$exporter links full Foundation or ICU"; exit 1; \
	else echo "lean-check: ok, no full Foundation and no ICU in $$exporter"; fi

# The attacks hold every scrape to its deadline, so they run on their own, not beside a hundred other tests on 2 cores.
unit-test: deps
	$(REVISION)
	swift build --build-tests
	swift test --skip ResilienceTests

# Builds the debug binaries first: the live test (deploy/tests/prometheus_e2e.py) runs them.
deploy-test: build venv
	BIN_DIR=$$(swift build --show-bin-path) VENV=$(VENV) PYTHON=$(DEBIAN_PYTHON) bash deploy/test.sh

# The attacks on the real binaries (abusive clients, a faulty appliance, signals under load).
resilience-test: deps
	$(REVISION)
	swift build --build-tests
	swift test --filter ResilienceTests

# 10,000 scrapes across every simulator scenario; fails on growing descriptors or memory, or a leaked session.
soak: build
	BIN_DIR=$$(swift build --show-bin-path) bash Tests/soak.sh

demo: build
	BIN_DIR=$$(swift build --show-bin-path) bash deploy/demo.sh

# Measures the binary users get: built with SHIPPED_FLAGS as `make dist` builds it and stripped as
# packaging/dist.sh strips it, in its own scratch path (.build-bench, git-ignored) so that it does
# not replace the dynamically linked release build in .build.
# The simulator is built alike; it only answers the simulator pass.
bench: bench-build
	BIN_DIR=.build-bench/shipped bash bench/run.sh

# One exporter probing 200 simulated appliances at once, every 15 s for 3 minutes (bench/scale.py):
# memory, descriptors and sessions per target, probe latency. SCALE_TARGETS, SCALE_DURATION, SCALE_INTERVAL.
scale: bench-build
	BIN_DIR=.build-bench/shipped $(DEBIAN_PYTHON) bench/scale.py

bench-build: deps
	$(REVISION)
	swift build $(SHIPPED_FLAGS) --scratch-path .build-bench --product vcsa_exporter
	swift build $(SHIPPED_FLAGS) --scratch-path .build-bench --product vcsa_simulator
	@bin=$$(swift build -c release --scratch-path .build-bench --show-bin-path); mkdir -p .build-bench/shipped; \
	$(SHIPPED_STRIP) -o .build-bench/shipped/vcsa_exporter "$$bin/vcsa_exporter"; \
	ln -sf "$$bin/vcsa_simulator" .build-bench/shipped/vcsa_simulator

# Rewrites packaging/vcsa_exporter.order from the binary `make bench` builds (not stripped), run under
# valgrind: when the dependencies, the Swift version or what a scrape runs have changed.
symbol-order: deps
	$(call apt_install,valgrind)
	$(REVISION)
	swift build $(SHIPPED_FLAGS) --scratch-path .build-bench --product vcsa_exporter
	swift build $(SHIPPED_FLAGS) --scratch-path .build-bench --product vcsa_simulator
	@bin=$$(swift build -c release --scratch-path .build-bench --show-bin-path); \
	bash packaging/symbol-order.sh "$$bin/vcsa_exporter" "$$bin/vcsa_simulator"

# Prints a variable: deploy/docker/Dockerfile builds with `make -s print-SHIPPED_FLAGS`.
print-%:
	@echo '$($*)'

# Release artifacts in dist/: the tarball, the Debian package, sha256sums.txt. Only from a
# committed tree, so that the revision in the binary names exactly what was built
# (ALLOW_DIRTY=1 overrides; the revision then ends in -dirty).
dist: deps dist-deps
	@if [ -z "$(ALLOW_DIRTY)" ] && git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$$(git status --porcelain)" ]; then \
		echo "make dist: the tree has uncommitted changes (commit them, or ALLOW_DIRTY=1)" >&2; git status --short >&2; exit 1; \
	fi
	$(REVISION)
	swift build $(SHIPPED_FLAGS) --product vcsa_exporter
	SHIPPED_STRIP="$(SHIPPED_STRIP)" bash packaging/dist.sh "$$(swift build -c release --show-bin-path)/vcsa_exporter" $(VERSION) $(DEB_REVISION)

# Installs the package on this machine, runs it against the simulator, purges it.
dist-test: dist
	$(REVISION)
	swift build --product vcsa_simulator
	SIMULATOR=$$(swift build --show-bin-path)/vcsa_simulator bash packaging/dist-test.sh $(DEB)

# libFuzzer targets of Fuzz/ (see Fuzz/README.md), each run for FUZZ_SECONDS; fails on any crash.
FUZZ_SECONDS ?= 60
fuzz: deps
	$(call apt_install,$(FUZZ_DEB_PACKAGES))
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash Fuzz/run.sh

# The Swift tests under ThreadSanitizer, then AddressSanitizer (sanitize/run.sh); fails on any report.
sanitize: deps
	bash sanitize/run.sh

clean:
	rm -rf .build .build-fuzz .build-tsan .build-asan dist $(VENV) Sources/VCSAExporter/Generated
