# Real-time end-to-end test (examples/realtime/): the generated rule pack,
# unmodified, against three exporters at 15 s probes, one Prometheus that
# scrapes them every 15 s and evaluates the pack, and Alertmanager with the
# shipped routing; it prints each scenario's time to page. About 9 minutes,
# almost all of it waiting on the real clock: make test runs it in the clock
# lane. Included by the top-level Makefile.

E2E_REALTIME_FLAGS ?= -count=1 -v -timeout 10m

.PHONY: e2e-realtime

e2e-realtime: build $(BIN)/prometheus $(BIN)/promtool $(BIN)/alertmanager $(BIN)/amtool
	$(GO) vet -tags realtime ./examples/realtime/
	$(GO) test -tags realtime $(E2E_REALTIME_FLAGS) -run . ./examples/realtime/

TEST_CLOCK_TARGETS += e2e-realtime
