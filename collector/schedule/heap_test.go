package schedule

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestDueHeap pushes, moves and removes entries at random and checks after
// each step that the due heap is ordered, that every entry knows its
// index and that the earliest slot is on top.
func TestDueHeap(t *testing.T) {
	s := &Scheduler{}
	rng := rand.New(rand.NewPCG(1, 2))
	var live []*entry
	slot := func() time.Time { return time.Unix(0, rng.Int64N(1000)) }
	for step := range 5000 {
		switch op := rng.IntN(4); {
		case op < 2 || len(live) == 0:
			e := &entry{next: slot()}
			s.pushDue(e)
			live = append(live, e)
		case op == 2: // the top fires and moves to a later slot
			e := s.due[0].e
			e.next = e.next.Add(time.Duration(rng.Int64N(1000)))
			s.due[0].at = e.next.UnixNano()
			s.fixDue(0)
		default:
			k := rng.IntN(len(live))
			e := live[k]
			s.removeDue(e.index)
			if e.index != -1 {
				t.Fatalf("step %d: removed entry has index %d", step, e.index)
			}
			live = append(live[:k], live[k+1:]...)
		}
		if len(s.due) != len(live) {
			t.Fatalf("step %d: heap holds %d, want %d", step, len(s.due), len(live))
		}
		for i, d := range s.due {
			if d.e.index != i || d.at != d.e.next.UnixNano() {
				t.Fatalf("step %d: slot %d: index %d, key %d, next %d", step, i, d.e.index, d.at, d.e.next.UnixNano())
			}
			if p := (i - 1) / dueArity; i > 0 && s.due[p].at > d.at {
				t.Fatalf("step %d: slot %d (%d) above its parent %d (%d)", step, i, d.at, p, s.due[p].at)
			}
		}
	}
}
