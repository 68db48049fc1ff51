# The .deb and .rpm with a hardened systemd unit (examples/packaging/,
# examples/systemd/). Included by the top-level Makefile; adds packages-test to
# make test.

NFPM_VERSION  := v2.48.0
PACKAGE_ARCHS ?= amd64 arm64

.PHONY: packages packages-test

$(BIN)/nfpm:
	GOBIN=$(BIN) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

# From the release archives of the commit (built here when missing).
packages: $(BIN)/nfpm
	examples/release/release.sh --keep-existing $(DIST) $(addprefix linux/,$(PACKAGE_ARCHS))
	NFPM=$(BIN)/nfpm examples/packaging/packages.sh $(DIST) $(PACKAGE_ARCHS)

# dpkg -i / --purge on this machine (root), rpm -qlp, systemd-analyze verify.
packages-test:
	@start=$$(date +%s); \
	 if ! command -v dpkg >/dev/null && [ -z "$$CI" ]; then \
	   echo "!!! make packages-test: SKIPPED — dpkg is missing (not a Debian system); with CI set this fails !!!"; \
	   exit 0; \
	 fi; \
	 $(MAKE) --no-print-directory packages PACKAGE_ARCHS=$(HOST_ARCH) && \
	 examples/packaging/packages_test.sh $(DIST) $(HOST_ARCH) && \
	 echo "make packages-test: $$(( $$(date +%s) - start ))s"

TEST_TARGETS += packages-test
