package reload

import (
	"os"
	"syscall"
)

// sysStat adds what only the platform knows: the change time, which no
// write can keep (unlike mtime, which cp -p and touch set), and the inode.
func sysStat(fi os.FileInfo) (ctime int64, ino, dev uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, 0
	}
	return st.Ctim.Nano(), st.Ino, st.Dev
}
