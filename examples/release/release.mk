# Versioned, reproducible release archives (examples/release/). Included by the
# top-level Makefile; adds release-test to make test.

DIST              := $(CURDIR)/dist
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
RELEASE_VERSION   := $(shell examples/release/version.sh 2>/dev/null)
# The machine's own architecture: the image and the packages test run it.
HOST_ARCH         := $(shell $(GO) env GOARCH)

.PHONY: release release-host release-test

# All six archives and sha256sums.txt, from the commit (not the working tree).
release:
	@start=$$(date +%s); \
	 examples/release/release.sh --clean $(DIST) $(RELEASE_PLATFORMS) && \
	 echo "make release: $$(( $$(date +%s) - start ))s"

# The linux archive of this machine's architecture, built once per commit.
release-host:
	examples/release/release.sh --keep-existing $(DIST) linux/$(HOST_ARCH)

# Two builds of the commit into two temporary directories give identical checksums.
release-test:
	@start=$$(date +%s); \
	 examples/release/release_test.sh && \
	 echo "make release-test: $$(( $$(date +%s) - start ))s"

TEST_TARGETS += release-test
