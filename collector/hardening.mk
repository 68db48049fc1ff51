# Hardening (README "Hardening"): the hostile tests (TestHostile*, with the
# race detector, in every package) and then every fuzz target of the
# repository for HARDENING_FUZZ_TIME each (a count of executions: a duration
# budget can fail spuriously on a busy machine, golang/go#75804), from its
# seed corpus. Fuzz targets are found by name (func FuzzXxx(f *testing.F)
# in a _test.go file, any module), so a new one joins without an edit
# here; go test -fuzz takes one package and one target at a time. Included by the
# top-level Makefile; adds itself to make test.

HARDENING_FUZZ_TIME ?= 10000x

.PHONY: hardening

hardening:
	@start=$$(date +%s); \
	 $(GO) test -race $(GOTEST_FLAGS) -run '^TestHostile' ./... || exit 1; \
	 n=0; \
	 for file in $$(grep -rlE --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git --exclude-dir=.bin \
	                  '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . | sort); do \
	   dir=$$(dirname $$file); mod=$$dir; \
	   while [ ! -f $$mod/go.mod ]; do mod=$$(dirname $$mod); done; \
	   for name in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(f \*testing\.F\).*/\1/p' $$file); do \
	     echo "--- fuzz $$name in $$dir for $(HARDENING_FUZZ_TIME)"; \
	     (cd $$mod && $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(HARDENING_FUZZ_TIME) ./$${dir#$$mod/}) || exit 1; \
	     n=$$((n+1)); \
	   done; \
	 done; \
	 echo "make hardening: hostile tests and $$n fuzz targets × $(HARDENING_FUZZ_TIME) passed in $$(( $$(date +%s) - start ))s"

TEST_TARGETS += hardening
