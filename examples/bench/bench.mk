# make bench-scale: the exporter against Debian's blackbox_exporter, a
# bare net/http client and the raw-syscall floor, on a loopback nginx
# origin, at 1k and 10k targets, with and without a CPU hog, then the
# exporter idle and its accuracy
# against demo-origin's delays (examples/bench/benchscale). On demand only:
# it takes about 30 minutes and is not part of make test. Installs, when they
# are missing, Debian's nginx-light (the origin) and
# prometheus-blackbox-exporter (the baseline) with apt-get.
# BENCH_SCALE_FLAGS=-large adds 50k targets; see -help for the rest.

BENCH_SCALE_FLAGS ?=

# bench_apt installs Debian packages on a fresh machine: the package lists
# first (a fresh image has none), sudo when not root, and the services the
# packages start stopped again (nginx would hold port 80 for nothing).
bench_apt = sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $(1) >/dev/null && \
	{ $$sudo service $(2) stop >/dev/null 2>&1 || true; }

.PHONY: bench-scale

bench-scale: $(BIN)/http5xx_exporter $(BIN)/demo-origin
	@command -v nginx >/dev/null || { echo "bench-scale: installing Debian's nginx-light, the loopback origin"; $(call bench_apt,nginx-light,nginx); }
	@command -v prometheus-blackbox-exporter >/dev/null || { echo "bench-scale: installing Debian's prometheus-blackbox-exporter, the baseline"; $(call bench_apt,prometheus-blackbox-exporter,prometheus-blackbox-exporter); }
	$(GO) build -o $(BIN)/benchscale ./examples/bench/benchscale
	$(BIN)/benchscale -exporter $(BIN)/http5xx_exporter -origin $(BIN)/demo-origin $(BENCH_SCALE_FLAGS)
