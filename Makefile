# http5xx_exporter — see README.md. Everything a target needs is installed by
# the Makefile itself into .bin/ (git-ignored); only Go is required.

GO        ?= go
BIN       := $(CURDIR)/.bin
export PATH := $(BIN):$(PATH)

PROMETHEUS_VERSION   := v0.316.0
ALERTMANAGER_VERSION := v0.28.1

# Versions come from the git tags v<semver> (examples/release/version.sh):
# 0.1.0 on a tag, 0.1.0-3-g<sha> after one, 0.0.0-dev+<sha> before the first,
# "+dirty" when tracked files are changed. make release builds the commit.
VERSION    ?= $(shell examples/release/version.sh --dirty 2>/dev/null || echo 0.0.0-dev)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER ?= $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
LDFLAGS    := -X github.com/prometheus/common/version.Version=$(VERSION) \
              -X github.com/prometheus/common/version.Revision=$(REVISION) \
              -X github.com/prometheus/common/version.Branch=$(BRANCH) \
              -X github.com/prometheus/common/version.BuildUser=$(BUILD_USER) \
              -X github.com/prometheus/common/version.BuildDate=$(BUILD_DATE)

GOTEST_FLAGS ?= -count=1

.PHONY: all build run test unit lint vet fmt tidy bench tools clean check-metrics

all: build

build: $(BIN)/http5xx_exporter $(BIN)/demo-origin

# Inside make test (TEST_PREBUILT=1) the binaries built at its start are
# kept: suites in two lanes must not rewrite a binary the other one runs.
REBUILD := $(if $(TEST_PREBUILT),,FORCE)

$(BIN)/http5xx_exporter: $(REBUILD)
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ ./cmd/http5xx_exporter

$(BIN)/demo-origin: $(REBUILD)
	$(GO) build -o $@ ./cmd/demo-origin

FORCE:

# Pinned real tools, built from the Go module proxy (docs/architecture.md).
$(BIN)/promtool:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_VERSION)
$(BIN)/prometheus:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS_VERSION)
$(BIN)/alertmanager:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/alertmanager/cmd/alertmanager@$(ALERTMANAGER_VERSION)
$(BIN)/amtool:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/alertmanager/cmd/amtool@$(ALERTMANAGER_VERSION)

tools: $(BIN)/promtool $(BIN)/prometheus $(BIN)/alertmanager $(BIN)/amtool

# The exporter on the example config against the demo origin. Ctrl-C stops both.
# Other ports: make run PORT=20505 ORIGIN_PORT=20506 (the example config is
# rewritten for the origin's port into .data/).
PORT        ?= 10505
ORIGIN_PORT ?= 10506
RUN_ARGS    ?=
run: build
	@mkdir -p .data
	@sed 's/127\.0\.0\.1:10506/127.0.0.1:$(ORIGIN_PORT)/g' examples/http5xx.yml > .data/http5xx.yml
	@echo "demo origin on http://127.0.0.1:$(ORIGIN_PORT), exporter on http://127.0.0.1:$(PORT)/ (status page, /metrics)"
	@trap 'kill $$origin 2>/dev/null' EXIT INT TERM; \
	 $(BIN)/demo-origin --web.listen-address=127.0.0.1:$(ORIGIN_PORT) & origin=$$!; \
	 $(BIN)/http5xx_exporter --config.file=.data/http5xx.yml --web.listen-address=127.0.0.1:$(PORT) --storage.path=.data --deploy.allow-unauthenticated $(RUN_ARGS)

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy:
	$(GO) mod tidy -diff

lint: vet fmt tidy

# Unit tests run with the race detector: the probe path is concurrent. The
# TestHostile* suites run once, in make hardening.
unit:
	$(GO) test -race $(GOTEST_FLAGS) -skip '^TestHostile' ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN) .data .e2e dist

# promtool and promlint on the golden /metrics output.
check-metrics: $(BIN)/promtool
	$(BIN)/promtool check metrics < collector/testdata/metrics.golden

# Each area adds its own test targets to TEST_TARGETS. Suites that spend
# most of their time waiting on real servers and compressed timers (the stack
# and lab tests) add themselves to TEST_WAIT_TARGETS instead, and suites that
# follow the real clock at production timings with almost no CPU to
# TEST_CLOCK_TARGETS: make test runs them in a second and a third lane beside
# the CPU-bound suites (each lane one suite at a time), after building the
# binaries and pinned tools once, so no two suites rebuild a file another one
# is running.
TEST_TARGETS       := lint unit check-metrics
TEST_WAIT_TARGETS  :=
TEST_CLOCK_TARGETS :=
-include $(sort $(wildcard */*.mk */*/*.mk))

# make test prints every suite's time at the end, passed or not. A failing
# suite stops its lane; the other lanes finish what they are running and
# stop. The other lanes' output is kept in .data/test-LANE.log and printed
# after the CPU lane's. TEST_LANES=1 runs everything in one lane, in order;
# TEST_LANES=2 runs the clock suites after the wait suites in the second.
TEST_LANES ?= 3
test: build tools
	@TEST_PREBUILT=1 TEST_LANES=$(TEST_LANES) MAKE="$(MAKE)" \
	  .ci/lanes.sh "$(strip $(TEST_TARGETS))" "$(strip $(TEST_WAIT_TARGETS))" "$(strip $(TEST_CLOCK_TARGETS))"
