# jshim: build, test, install and run the Java containerd shim.
# The JDK 25 comes with the machine image; everything else is installed here.

SHELL := /bin/bash
JAVA_HOME ?= $(firstword $(wildcard /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/jdk-25*))
export JAVA_HOME
export PATH := $(JAVA_HOME)/bin:$(PATH)

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib/jshim
MVN      ?= mvn -B -q -ntp
# Tests run without -q: CI reads Surefire's summary at the end of the output.
MVN_TEST ?= mvn -B -ntp
# make test runs every test with small counts; make stress with the issues' full counts.
SCALE    ?= small

.PHONY: all build test test-cgroup2 test-containerd2 stress install uninstall run bench clean deps check-jdk

all: build

check-jdk:
	@if [ -z "$(JAVA_HOME)" ] || ! "$(JAVA_HOME)/bin/java" -version 2>&1 | grep -q 'version "25'; then \
	  echo "jshim needs a JDK 25 (looked in /usr/lib/jvm/temurin-25-jdk-amd64 and similar)."; \
	  echo "Set JAVA_HOME=/path/to/jdk-25 and run make again."; exit 1; fi

# System parts the tests drive for real: runc, containerd + ctr, busybox-static for rootfs.
deps:
	@./scripts/install-deps.sh

build: check-jdk
	$(MVN) -DskipTests install

test: check-jdk deps
	@set -o pipefail; $(MVN_TEST) -Djshim.scale=$(SCALE) install 2>&1 | grep --line-buffered -v -e '^WARNING: .*sun.misc.Unsafe' -e '^\[INFO\] Download' | tee target-test.log; \
	  status=$${PIPESTATUS[0]}; ./scripts/test-summary.sh target-test.log; exit $$status

# jshim's cgroup v2 paths on a cgroup v2-only qemu guest (minutes under TCG; CI runs it as a step of its own).
test-cgroup2: check-jdk deps
	$(MVN) -DskipTests install
	@set -o pipefail; $(MVN_TEST) -pl test test -Djshim.scale=$(SCALE) -Djshim.excludedGroups=none -Dtest=CgroupV2GuestTest 2>&1 | grep --line-buffered -v -e '^WARNING: .*sun.misc.Unsafe' -e '^\[INFO\] Download' | tee target-test-cgroup2.log; \
	  status=$${PIPESTATUS[0]}; ./scripts/test-summary.sh target-test-cgroup2.log; exit $$status

stress:
	$(MAKE) test SCALE=full

# The end-to-end tests against containerd 2.x (JUnit tag containerd2, left out of make test): the release's
# tarball from CONTAINERD2_DIR (by default ../shared/containerd-2.3.4 beside the repository, or beside the
# repository this one was cloned from: a CI clone made elsewhere) is unpacked into the build directory and its
# containerd, ctr and runc shim are run privately. Without the tarball this fails.
CONTAINERD2_DIR     ?= $(shell d=../shared/containerd-2.3.4; \
  o=$$(git config --get remote.origin.url 2>/dev/null); o=$$(echo "$$o" | sed "s|^file://||"); \
  if [ ! -d "$$d" ] && [ -n "$$o" ] && [ -d "$$(dirname "$$o")/shared/containerd-2.3.4" ]; then \
    d=$$(dirname "$$o")/shared/containerd-2.3.4; fi; echo "$$d")
CONTAINERD2_TARBALL ?= containerd-2.3.4-linux-amd64.tar.xz
CONTAINERD2_BUILD   := $(CURDIR)/test/target/containerd2

test-containerd2: check-jdk deps
	@tarball="$(CONTAINERD2_DIR)/$(CONTAINERD2_TARBALL)"; \
	  if [ ! -f "$$tarball" ]; then \
	    echo "test-containerd2: $$tarball not found: set CONTAINERD2_DIR to the directory that holds $(CONTAINERD2_TARBALL)"; \
	    exit 1; fi; \
	  rm -rf "$(CONTAINERD2_BUILD)" && mkdir -p "$(CONTAINERD2_BUILD)" && tar -xJf "$$tarball" -C "$(CONTAINERD2_BUILD)" \
	  && "$(CONTAINERD2_BUILD)/bin/containerd" --version
	@set -o pipefail; $(MVN_TEST) -Djshim.scale=$(SCALE) -Dgroups=containerd2 -Djshim.excludedGroups= \
	  -Djshim.containerd2=$(CONTAINERD2_BUILD) install 2>&1 \
	  | grep --line-buffered -v -e '^WARNING: .*sun.misc.Unsafe' -e '^\[INFO\] Download' | tee target-test-containerd2.log; \
	  status=$${PIPESTATUS[0]}; ./scripts/test-summary.sh target-test-containerd2.log; exit $$status

install: build
	@./scripts/install.sh "$(BINDIR)" "$(LIBDIR)"

uninstall:
	@./scripts/uninstall.sh "$(BINDIR)" "$(LIBDIR)"

run: check-jdk deps install
	@./scripts/run-demo.sh

# Benchmarks, not tests: jshim against containerd-shim-runc-v2, printed as a table and test/target/bench/bench.png.
bench: check-jdk deps build
	@./scripts/bench.sh

clean:
	$(MVN) clean
