package reload

import (
	"os"
	"slices"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// racyWindow: a file changed this recently may change again within the
// same timestamp tick, unseen by a stat; its stamp is not trusted until it
// is older (git's "racy clean" rule).
const racyWindow = 2 * time.Second

// stamp is what stat says about the sources of a digest: their identity,
// size and times. Equal stamps mean no file was written, replaced, added to
// or removed from a watched directory, so the watcher need not read them.
type stamp struct {
	entries []fileStamp
	// racy: some entry changed within racyWindow of when the stamp was
	// taken; the next check digests whatever the stamp says.
	racy bool
}

// fileStamp is one stat; missing records a failed one.
type fileStamp struct {
	size, mtime, ctime int64
	ino, dev           uint64
	mode               os.FileMode
	missing            bool
}

// takeStamp stats every source; names are followed through symlinks, so a
// Kubernetes ConfigMap's ..data swap shows as another inode.
func takeStamp(src config.Sources, now time.Time) stamp {
	st := stamp{entries: make([]fileStamp, 0, len(src.Files)+len(src.Dirs))}
	for _, group := range [][]string{src.Files, src.Dirs} {
		for _, name := range group {
			fi, err := os.Stat(name)
			if err != nil {
				st.entries = append(st.entries, fileStamp{missing: true})
				continue
			}
			f := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: fi.Mode()}
			f.ctime, f.ino, f.dev = sysStat(fi)
			if latest := max(f.mtime, f.ctime); now.UnixNano()-latest < int64(racyWindow) {
				st.racy = true
			}
			st.entries = append(st.entries, f)
		}
	}
	return st
}

func (s stamp) equal(o stamp) bool { return slices.Equal(s.entries, o.entries) }
