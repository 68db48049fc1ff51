package reload

import "syscall"

// networkFS reports whether dir is on a filesystem whose files other
// machines (or the host, behind FUSE) can change: inotify accepts a watch
// there but sees only the changes made through this kernel.
func networkFS(dir string) bool {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return false
	}
	switch uint32(st.Type) { // linux/magic.h
	case 0x6969, // NFS
		0x517b,     // SMB
		0xff534d42, // CIFS
		0xfe534d42, // SMB2
		0x65735546, // FUSE (sshfs, s3fs, virtiofs behind Docker Desktop)
		0x01021997, // 9p (WSL, some VMs)
		0x00c36400, // Ceph
		0x5346414f, // AFS
		0x73757245, // Coda
		0x564c,     // NCP
		0x01161970, // GFS2
		0x7461636f, // OCFS2
		0x0bd00bd0: // Lustre
		return true
	}
	return false
}
