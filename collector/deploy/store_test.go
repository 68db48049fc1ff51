package deploy

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testEvent(service, version string, seq uint64) *Event {
	return &Event{
		ID:        fmt.Sprintf("%s-%d", service, seq),
		Service:   service,
		Version:   version,
		Timestamp: testNow.Add(time.Duration(seq) * time.Minute),
		Source:    SourceAPI,
		Recorded:  testNow,
		Seq:       seq,
	}
}

func records(t testing.TB, evs ...*Event) []byte {
	t.Helper()
	var buf []byte
	for _, ev := range evs {
		var err error
		if buf, err = appendRecord(buf, ev); err != nil {
			t.Fatal(err)
		}
	}
	return buf
}

func TestReadLog(t *testing.T) {
	a, b, c := testEvent("svc", "1", 1), testEvent("svc", "2", 2), testEvent("svc", "3", 3)
	ra, rb, rc := records(t, a), records(t, b), records(t, c)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	flip := func(rec []byte, i int) []byte {
		out := bytes.Clone(rec)
		out[i] ^= 0x20
		return out
	}
	for _, tc := range []struct {
		name     string
		log      []byte
		versions string
		end      int   // -1: the whole log
		problems []int // offsets of skipped records
		torn     bool  // the last problem is a torn tail
	}{
		{name: "empty", log: nil, versions: "", end: -1},
		{name: "intact", log: cat(ra, rb, rc), versions: "1,2,3", end: -1},
		{name: "torn last record", log: cat(ra, rb, rc[:len(rc)/2]), versions: "1,2",
			end: len(ra) + len(rb), problems: []int{len(ra) + len(rb)}, torn: true},
		{name: "only the newline missing", log: cat(ra, rb[:len(rb)-1]), versions: "1",
			end: len(ra), problems: []int{len(ra)}, torn: true},
		{name: "zeros after a crash", log: cat(ra, make([]byte, 100)), versions: "1",
			end: len(ra), problems: []int{len(ra)}, torn: true},
		{name: "flipped bit in the last record", log: cat(ra, rb, flip(rc, 20)), versions: "1,2",
			end: -1, problems: []int{len(ra) + len(rb)}},
		{name: "damage in the middle costs one record", log: cat(ra, flip(rb, 30), rc), versions: "1,3",
			end: -1, problems: []int{len(ra)}},
		{name: "bad checksum digits", log: cat([]byte("zzzzzzzz {}\n"), rb), versions: "2",
			end: -1, problems: []int{0}},
		{name: "no checksum", log: cat([]byte("{\"id\":\"x\"}\n"), rb), versions: "2",
			end: -1, problems: []int{0}},
		{name: "blank line", log: cat(ra, []byte("\n"), rb), versions: "1,2",
			end: -1, problems: []int{len(ra)}},
		{name: "valid checksum, invalid event", log: cat(records(t, &Event{ID: "x", Service: "s", Version: "1", Source: "bogus", Seq: 1, Timestamp: testNow}), rb),
			versions: "2", end: -1, problems: []int{0}},
		{name: "overlong line", log: cat(ra, bytes.Repeat([]byte("x"), maxRecordLen+10), []byte("\n"), rc), versions: "1,3",
			end: -1, problems: []int{len(ra)}},
		{name: "overlong torn tail", log: cat(ra, bytes.Repeat([]byte("x"), maxRecordLen+10)), versions: "1",
			end: len(ra), problems: []int{len(ra)}, torn: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, end, problems, err := readLog(bytes.NewReader(tc.log))
			if err != nil {
				t.Fatal(err)
			}
			var vs []string
			for _, e := range evs {
				vs = append(vs, e.Version)
			}
			if got := strings.Join(vs, ","); got != tc.versions {
				t.Errorf("versions %q, want %q", got, tc.versions)
			}
			wantEnd := int64(tc.end)
			if tc.end < 0 {
				wantEnd = int64(len(tc.log))
			}
			if end != wantEnd {
				t.Errorf("end %d, want %d", end, wantEnd)
			}
			var offs []int
			for _, p := range problems {
				offs = append(offs, int(p.Offset))
			}
			if fmt.Sprint(offs) != fmt.Sprint(tc.problems) {
				t.Errorf("problems at %v, want %v (%v)", offs, tc.problems, problems)
			}
			if len(problems) > 0 && problems[len(problems)-1].Torn != tc.torn {
				t.Errorf("last problem torn=%v, want %v", problems[len(problems)-1].Torn, tc.torn)
			}
		})
	}
}

func logPath(dir string) string { return filepath.Join(dir, logName) }

func TestTornRecordRecovery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, rec []byte) []byte // what the crash left after the intact log
		warn   string
	}{
		{"half a record", func(t *testing.T, rec []byte) []byte { return rec[:len(rec)/2] }, "torn last record"},
		{"record without newline", func(t *testing.T, rec []byte) []byte { return rec[:len(rec)-1] }, "torn last record"},
		{"zeroed tail", func(t *testing.T, rec []byte) []byte { return make([]byte, 4096) }, "torn last record"},
		{"garbled whole record", func(t *testing.T, rec []byte) []byte {
			out := bytes.Clone(rec)
			out[12] ^= 0xff
			return out
		}, "damaged record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m, _ := openManager(t, dir, Options{})
			for i := range 3 {
				mustRecord(t, m, Event{Service: "svc", Version: fmt.Sprintf("1.%d", i), Timestamp: testNow.Add(time.Duration(i) * time.Second)})
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			intact, _ := os.ReadFile(logPath(dir))
			f, _ := os.OpenFile(logPath(dir), os.O_WRONLY|os.O_APPEND, 0)
			f.Write(tc.damage(t, records(t, testEvent("svc", "9.9", 4))))
			f.Close()

			m, logs := openManager(t, dir, Options{})
			if got := versions(m.List("svc", 0)); got != "1.2,1.1,1.0" {
				t.Errorf("after recovery: %q", got)
			}
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), tc.warn) {
				t.Errorf("no warning about %q in log:\n%s", tc.warn, logs)
			}
			if strings.HasPrefix(tc.warn, "torn") {
				if now, _ := os.ReadFile(logPath(dir)); !bytes.Equal(now, intact) {
					t.Errorf("torn tail not cut: %d bytes, want %d", len(now), len(intact))
				}
			}
			// The next record lands on a clean line and survives a restart.
			mustRecord(t, m, Event{Service: "svc", Version: "2.0", Timestamp: testNow.Add(time.Minute)})
			m.Close()
			m, _ = openManager(t, dir, Options{})
			if got := versions(m.List("svc", 0)); got != "2.0,1.2,1.1,1.0" {
				t.Errorf("after the next restart: %q", got)
			}
			if ev, _ := m.Latest("svc"); ev.Seq != 4 {
				t.Errorf("seq of the new event %d, want 4", ev.Seq)
			}
		})
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	const keep, compactMin, perService = 3, 10, 40
	// One retired id is remembered (and its record kept), the others go.
	o := Options{MaxEventsPerService: keep, MaxRetiredIDs: 1}
	m, logs := openManagerCompact(t, dir, o, compactMin)
	for i := 1; i <= perService; i++ {
		for _, s := range []string{"a", "b"} {
			mustRecord(t, m, Event{Service: s, Version: fmt.Sprintf("v%d", i), Timestamp: testNow.Add(time.Duration(i) * time.Second)})
		}
	}
	// Kept: 6 records; compaction runs once more than 10 dropped ones
	// outnumber them, so the log never grows past kept+dropped+1 batch.
	if n := countLines(t, logPath(dir)); n > 2*keep+1+compactMin+2 {
		t.Errorf("log has %d records; compaction did not run", n)
	}
	if !strings.Contains(logs.String(), "deploy log compacted") {
		t.Errorf("no compaction logged:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, tmpName)); !os.IsNotExist(err) {
		t.Errorf("temp file left behind: %v", err)
	}
	check := func(m *Manager, when string) {
		t.Helper()
		for _, s := range []string{"a", "b"} {
			if got := versions(m.List(s, 0)); got != "v40,v39,v38" {
				t.Errorf("%s: service %s keeps %q", when, s, got)
			}
			if ev, _ := m.Latest(s); ev.Seq != perService {
				t.Errorf("%s: service %s total %d, want %d", when, s, ev.Seq, perService)
			}
		}
		// Ids of dropped events are forgotten but for MaxRetiredIDs, kept
		// ones remain.
		m.mu.RLock()
		_, keptID := m.ids[m.services["a"].latest.ID]
		nIDs, nRetired := len(m.ids), len(m.retired)
		m.mu.RUnlock()
		if !keptID || nIDs != 2*keep || nRetired != 1 {
			t.Errorf("%s: %d ids indexed and %d retired, want %d and 1", when, nIDs, nRetired, 2*keep)
		}
	}
	check(m, "before restart")
	m.Close()

	// An interrupted compaction leaves its temp file; it is ignored and removed.
	os.WriteFile(filepath.Join(dir, tmpName), []byte("partial"), 0o600)
	m, _ = openManagerCompact(t, dir, o, compactMin)
	check(m, "after restart")
	if _, err := os.Stat(filepath.Join(dir, tmpName)); !os.IsNotExist(err) {
		t.Errorf("stale temp file not removed: %v", err)
	}
	// Appends after compaction go to the new file.
	mustRecord(t, m, Event{Service: "a", Version: "v41", Timestamp: testNow.Add(time.Hour)})
	m.Close()
	m, _ = openManagerCompact(t, dir, o, compactMin)
	if got := versions(m.List("a", 0)); got != "v41,v40,v39" {
		t.Errorf("after append to the compacted log: %q", got)
	}
}

func TestCompactionAtOpen(t *testing.T) {
	dir := t.TempDir()
	var evs []*Event
	for i := uint64(1); i <= 50; i++ {
		evs = append(evs, testEvent("svc", fmt.Sprintf("v%d", i), i))
	}
	os.WriteFile(logPath(dir), records(t, evs...), 0o600)
	m, _ := openManagerCompact(t, dir, Options{MaxEventsPerService: 5}, 10)
	waitFor(t, hangAfter, "compaction at open", func() bool { return countLines(t, logPath(dir)) == 5 })
	if got := versions(m.List("svc", 0)); got != "v50,v49,v48,v47,v46" {
		t.Errorf("kept %q", got)
	}
}

func TestStorageLocked(t *testing.T) {
	dir := t.TempDir()
	openManager(t, dir, Options{})
	_, err := NewManager(Options{StoragePath: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second manager on the same storage: %v", err)
	}
}

func TestStoragePathRequired(t *testing.T) {
	if _, err := NewManager(Options{}); err == nil {
		t.Fatal("no error without a storage path")
	}
}

// FuzzReadLog: replaying any bytes never panics nor fails, yields only
// valid events, and the intact prefix replays to the same events again.
func FuzzReadLog(f *testing.F) {
	good := records(f, testEvent("svc", "1.0", 1), testEvent("svc", "1.1", 2))
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add([]byte("00000000 {}\n"))
	f.Add([]byte("\n\n\n"))
	f.Add(append(bytes.Clone(good), 0, 0, 0))
	retired := testEvent("svc", "0.9", 3)
	retired.retired = true
	f.Add(records(f, retired, testEvent("svc", "1.0", 1)))
	f.Add(crcLine(`{"retired":{"id":"x"},"id":"y","service":"s","version":"1","source":"api","seq":1,"timestamp":"2026-01-01T00:00:00Z"}`))
	f.Add(crcLine(`{"retired":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, end, problems, err := readLog(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("error on damage: %v", err)
		}
		if end < 0 || end > int64(len(data)) {
			t.Fatalf("end %d outside 0..%d", end, len(data))
		}
		if end < int64(len(data)) && (len(problems) == 0 || !problems[len(problems)-1].Torn) {
			t.Fatalf("end %d < %d without a torn tail", end, len(data))
		}
		for i := range evs {
			if err := checkStored(&evs[i]); err != nil {
				t.Fatalf("invalid event replayed: %v", err)
			}
		}
		again, end2, problems2, _ := readLog(bytes.NewReader(data[:end]))
		if end2 != end || len(again) != len(evs) {
			t.Fatalf("intact prefix replays differently: %d events to %d, end %d to %d", len(evs), len(again), end, end2)
		}
		for _, p := range problems2 {
			if p.Torn {
				t.Fatalf("intact prefix has a torn tail")
			}
		}
		// Re-encoding what was read gives a log that replays without problems.
		var ptrs []*Event
		for i := range evs {
			ptrs = append(ptrs, &evs[i])
		}
		clean := records(t, ptrs...)
		evs3, _, problems3, _ := readLog(bytes.NewReader(clean))
		var ptrs3 []*Event
		for i := range evs3 {
			ptrs3 = append(ptrs3, &evs3[i])
		}
		if len(problems3) != 0 || !bytes.Equal(records(t, ptrs3...), clean) {
			t.Fatalf("re-encoded log does not replay to itself: %v", problems3)
		}
	})
}

// crcLine is a log line holding js with a valid checksum.
func crcLine(js string) []byte {
	return fmt.Appendf(nil, "%08x %s\n", crc32.Checksum([]byte(js), castagnoli), js)
}

// FuzzReplayLog: a Manager opened on any log (damaged, hostile, with
// retired ids, repeated ids, huge seqs) starts, never panics, keeps its
// bounds, answers the API's reads, and opens again on what it left.
func FuzzReplayLog(f *testing.F) {
	at := func(min int) time.Time { return testNow.Add(time.Duration(min) * time.Minute) }
	ev := func(id, version string, seq uint64, rec time.Time) *Event {
		e := testEvent("svc", version, seq)
		e.ID, e.Recorded = id, rec
		return e
	}
	old := ev("run-1", "v1", 1, at(-48*60))
	old.retired = true
	recent := ev("run-2", "v2", 2, at(0))
	recent.retired = true
	f.Add(records(f, old, recent, ev("run-3", "v3", 3, at(1)), ev("run-4", "v4", 4, at(2)), ev("run-5", "v5", 5, at(3))))
	f.Add(records(f, ev("dup", "v1", 1, at(0)), ev("dup", "v2", 2, at(1)), ev("dup", "v3", 3, at(2))))
	f.Add(records(f, ev("a", "v1", 18446744073709551615, at(0)), ev("b", "v2", 1, at(0))))
	f.Add(append(records(f, recent), crcLine(`{"retired":{"retired":{"id":"x"}}}`)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(logPath(dir), data, 0o600); err != nil {
			t.Fatal(err)
		}
		o := Options{StoragePath: dir, MaxEventsPerService: 2, MaxRetiredIDs: 2, Now: func() time.Time { return at(10) }}
		m, err := newManager(o, 2)
		if err != nil {
			t.Fatalf("a damaged log stopped the start: %v", err)
		}
		m.mu.RLock()
		for s, h := range m.services {
			if len(h.events) > o.MaxEventsPerService || (h.latest == nil) != (len(h.events) == 0) {
				t.Errorf("service %q: %d events, latest %v", s, len(h.events), h.latest)
			}
		}
		if len(m.retired) > o.MaxRetiredIDs || m.live < 0 || m.dead < 0 {
			t.Errorf("%d retired ids (max %d), live %d, dead %d", len(m.retired), o.MaxRetiredIDs, m.live, m.dead)
		}
		m.mu.RUnlock()
		for _, e := range m.List("", 0) {
			if e.retired {
				t.Errorf("a retired event is listed: %+v", e)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		m2, err := newManager(o, 2)
		if err != nil {
			t.Fatalf("reopening what the first start left: %v", err)
		}
		m2.Close()
	})
}

// readCorpus returns the input of a committed seed corpus file.
func readCorpus(t *testing.T, fuzzer, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", fuzzer, name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a fuzz corpus file", name)
	}
	lit := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}

// The committed corpus really holds what its names say, so the fuzzer
// starts from intact, torn and damaged logs.
func TestReadLogCorpus(t *testing.T) {
	for _, tc := range []struct {
		name           string
		events, damage int
		torn           bool
	}{
		{"intact", 3, 0, false},
		{"two_services", 3, 0, false},
		{"torn_tail", 2, 1, true},
		{"no_final_newline", 2, 1, true},
		{"zeroed_tail", 1, 1, true},
		{"flipped_bit", 2, 1, false},
		{"bad_checksum_digits", 1, 1, false},
		{"valid_checksum_invalid_event", 1, 1, false},
		{"blank_lines", 1, 3, false},
	} {
		evs, _, problems, err := readLog(bytes.NewReader(readCorpus(t, "FuzzReadLog", tc.name)))
		if err != nil || len(evs) != tc.events || len(problems) != tc.damage {
			t.Errorf("%s: %d events, problems %v, err %v", tc.name, len(evs), problems, err)
			continue
		}
		if tc.damage > 0 && problems[len(problems)-1].Torn != tc.torn {
			t.Errorf("%s: torn=%v", tc.name, !tc.torn)
		}
	}
}

// A storage directory the exporter creates must survive a crash with the
// first acknowledged deploy in it: the directory entries of every
// directory created on the way are fsynced, not only the log's entry.
func TestNewStorageDirectoryIsDurable(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b")
	var synced []string
	orig := dirSync
	dirSync = func(d string) error {
		synced = append(synced, filepath.Clean(d))
		return orig(d)
	}
	t.Cleanup(func() { dirSync = orig })

	m, _ := openManager(t, dir, Options{})
	mustRecord(t, m, Event{Service: "svc", Version: "1"})
	for _, want := range []string{base, filepath.Join(base, "a"), dir} {
		if !slices.Contains(synced, want) {
			t.Errorf("directory %s not fsynced; fsynced: %q", want, synced)
		}
	}
	m.Close()

	// The log's entry is made durable at every start, not only the one
	// that created it (an earlier process may have died before its fsync).
	synced = nil
	openManager(t, dir, Options{})
	if !slices.Contains(synced, dir) {
		t.Errorf("reopening: storage directory not fsynced; fsynced: %q", synced)
	}
}
