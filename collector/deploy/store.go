package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// The log is a text file of one record per line:
//
//	<CRC-32C of the JSON, 8 lowercase hex digits> <event as JSON>\n
//
// It is only ever appended to (and fsynced before an event is acknowledged)
// or replaced whole by compaction (temp file, fsync, rename, fsync of the
// directory). JSON never contains a raw newline, so a damaged record costs
// that line only; a last line without its newline is a torn write.
const (
	logName  = "deploys.log"
	tmpName  = "deploys.log.tmp"
	lockName = "deploys.lock"
	// maxRecordLen bounds one line; real records stay far below it (every
	// field is bounded), so a longer line is damage.
	maxRecordLen = 256 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// dirSync makes the entries of a directory durable (tests watch it).
var dirSync = syncDir

// retiredRecord is the record of an event that has left its service's
// history but whose id is still remembered (see Options.IDWindow):
// {"retired":{event}}. Replay puts it in the id index only. A binary that
// does not know the form skips it as an invalid event instead of making an
// old version current again.
type retiredRecord struct {
	Retired *Event `json:"retired"`
}

// windowRecord is the record of a maintenance window:
// {"maintenance":{window}}. A later record with the same id replaces an
// earlier one (a window ended early). A binary that does not know the form
// skips it as an invalid event.
type windowRecord struct {
	Maintenance *Window `json:"maintenance"`
}

// appendRecord appends ev's record to buf.
func appendRecord(buf []byte, ev *Event) ([]byte, error) {
	var js []byte
	var err error
	if ev.window != nil {
		js, err = json.Marshal(windowRecord{ev.window})
	} else if ev.retired {
		js, err = json.Marshal(retiredRecord{ev})
	} else {
		js, err = json.Marshal(ev)
	}
	if err != nil {
		return buf, fmt.Errorf("encoding event %q: %w", ev.ID, err)
	}
	buf = fmt.Appendf(buf, "%08x ", crc32.Checksum(js, castagnoli))
	buf = append(buf, js...)
	return append(buf, '\n'), nil
}

// logProblem is one record replay skipped.
type logProblem struct {
	Offset int64 // where the record starts
	Torn   bool  // an incomplete last line (a write cut short by a crash)
	Err    error
}

func (p logProblem) Error() string {
	if p.Torn {
		return fmt.Sprintf("torn last record at byte %d: %v", p.Offset, p.Err)
	}
	return fmt.Sprintf("damaged record at byte %d: %v", p.Offset, p.Err)
}

// readLog replays a log. It returns the events of every intact record in
// file order, end (the length of the log without a torn last line: where
// appends continue) and the records it skipped. Only a failing reader
// yields an error; damage never does.
func readLog(r io.Reader) (events []Event, end int64, problems []logProblem, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	var line []byte
	for {
		line = line[:0]
		var n int64 // bytes of this line, newline included
		over, complete := false, false
		for {
			chunk, rerr := br.ReadSlice('\n')
			n += int64(len(chunk))
			if !over {
				if len(line)+len(chunk) > maxRecordLen {
					over = true
				} else {
					line = append(line, chunk...)
				}
			}
			switch rerr {
			case nil:
				complete = true
			case bufio.ErrBufferFull:
				continue
			case io.EOF:
			default:
				return events, off, problems, fmt.Errorf("reading byte %d: %w", off+n, rerr)
			}
			break
		}
		if !complete {
			if n > 0 {
				problems = append(problems, logProblem{Offset: off, Torn: true, Err: errors.New("no newline at end of file")})
			}
			return events, off, problems, nil
		}
		start := off
		off += n
		if over {
			problems = append(problems, logProblem{Offset: start, Err: fmt.Errorf("line longer than %d bytes", maxRecordLen)})
			continue
		}
		ev, perr := parseRecord(line[:len(line)-1])
		if perr != nil {
			problems = append(problems, logProblem{Offset: start, Err: perr})
			continue
		}
		events = append(events, ev)
	}
}

// parseRecord checks and decodes one line without its newline.
func parseRecord(line []byte) (Event, error) {
	sum, js, ok := bytes.Cut(line, []byte{' '})
	if !ok || len(sum) != 8 {
		return Event{}, errors.New("no checksum")
	}
	want, err := strconv.ParseUint(string(sum), 16, 32)
	if err != nil {
		return Event{}, errors.New("malformed checksum")
	}
	if got := crc32.Checksum(js, castagnoli); uint32(want) != got {
		return Event{}, fmt.Errorf("checksum mismatch (stored %08x, computed %08x)", want, got)
	}
	var rec struct {
		Event
		Retired     *Event  `json:"retired"`
		Maintenance *Window `json:"maintenance"`
	}
	if err := json.Unmarshal(js, &rec); err != nil {
		return Event{}, fmt.Errorf("decoding: %w", err)
	}
	ev := rec.Event
	if rec.Maintenance != nil {
		if ev != (Event{}) || rec.Retired != nil {
			return Event{}, errors.New("invalid record: a maintenance window and an event")
		}
		if err := checkStoredWindow(rec.Maintenance); err != nil {
			return Event{}, fmt.Errorf("invalid maintenance window: %w", err)
		}
		return Event{window: rec.Maintenance}, nil
	}
	if rec.Retired != nil {
		if ev != (Event{}) {
			return Event{}, errors.New("invalid event: both an event and a retired one")
		}
		ev = *rec.Retired
		ev.retired = true
	}
	if err := checkStored(&ev); err != nil {
		return Event{}, fmt.Errorf("invalid event: %w", err)
	}
	return ev, nil
}

// store owns the files under the storage path.
type store struct {
	dir  string
	f    *os.File // the log, opened for appending
	size int64    // bytes of intact records in the log
	lock *os.File
	// broken is set when the log's state on disk is no longer known (a
	// failed fsync or a failed repair of a failed write); every later
	// append fails with it until a restart replays the log.
	broken error
}

// openStore locks dir, replays its log and repairs a torn tail. It returns
// the replayed events and the records it skipped.
func openStore(dir string) (*store, []Event, []logProblem, error) {
	if dir == "" {
		return nil, nil, nil, errors.New("no storage path")
	}
	if err := mkdirAllSync(dir); err != nil {
		return nil, nil, nil, fmt.Errorf("creating storage directory: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, nil, nil, err
	}
	s := &store{dir: dir, lock: lock}
	fail := func(err error) (*store, []Event, []logProblem, error) {
		s.close()
		return nil, nil, nil, err
	}
	// A temp file is a compaction that did not reach its rename; the log
	// is still whole.
	if err := os.Remove(filepath.Join(dir, tmpName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("removing unfinished compaction: %w", err))
	}
	path := filepath.Join(dir, logName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fail(fmt.Errorf("opening deploy log: %w", err))
	}
	s.f = f
	// Always, not only when this call created the log: a process killed
	// between creating it and this fsync leaves an entry that no later
	// fsync of the log itself makes durable.
	if err := dirSync(dir); err != nil {
		return fail(err)
	}
	events, end, problems, err := readLog(f)
	if err != nil {
		return fail(fmt.Errorf("reading %s: %w", path, err))
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if fi.Size() > end {
		// Cut the torn tail so the next record does not land on its line.
		if err := f.Truncate(end); err != nil {
			return fail(fmt.Errorf("truncating torn record: %w", err))
		}
		if err := f.Sync(); err != nil {
			return fail(fmt.Errorf("fsync after truncating torn record: %w", err))
		}
	}
	s.size = end
	return s, events, problems, nil
}

// append writes buf (whole records) and fsyncs it. When it returns nil the
// records survive a crash.
func (s *store) append(buf []byte) error {
	if s.broken != nil {
		return s.broken
	}
	if _, err := s.f.Write(buf); err != nil {
		// Take back a partial write so the log stays whole (a full disk is
		// the usual cause and may pass).
		if terr := s.f.Truncate(s.size); terr != nil {
			s.broken = fmt.Errorf("deploy log in unknown state after failed write (%v) and failed repair: %w", err, terr)
		}
		return fmt.Errorf("writing deploy log: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the pages: nothing
		// written since the last good fsync can be trusted any more.
		s.broken = fmt.Errorf("fsync of deploy log failed, restart to recover: %w", err)
		return s.broken
	}
	s.size += int64(len(buf))
	return nil
}

// rewrite replaces the log with exactly events (compaction).
func (s *store) rewrite(events []*Event) error {
	if s.broken != nil {
		return s.broken
	}
	tmp := filepath.Join(s.dir, tmpName)
	var buf []byte
	for _, ev := range events {
		var err error
		if buf, err = appendRecord(buf, ev); err != nil {
			return err
		}
	}
	if err := writeFileSync(tmp, buf); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compacting deploy log: %w", err)
	}
	path := filepath.Join(s.dir, logName)
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compacting deploy log: %w", err)
	}
	// Until the directory is synced a crash may bring back the old log, so
	// nothing may be appended to the new one before.
	if err := dirSync(s.dir); err != nil {
		s.broken = fmt.Errorf("compacting deploy log: %w", err)
		return s.broken
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		s.broken = fmt.Errorf("reopening compacted deploy log: %w", err)
		return s.broken
	}
	s.f.Close()
	s.f = f
	s.size = int64(len(buf))
	return nil
}

// mkdirAllSync is os.MkdirAll that also fsyncs the parent of every
// directory it creates: otherwise a crash may take a new storage directory,
// and the acknowledged deploys in it, away with the parent's unsynced entry.
func mkdirAllSync(dir string) error {
	var created []string // missing directories, deepest first
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for i := len(created) - 1; i >= 0; i-- {
		if err := dirSync(filepath.Dir(created[i])); err != nil {
			return err
		}
	}
	return nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *store) close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if s.lock != nil {
		if uerr := unlockDir(s.lock); err == nil {
			err = uerr
		}
		s.lock = nil
	}
	return err
}
