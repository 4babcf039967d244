package media

import (
	"os"
	"syscall"
)

// fileStamp is what Unchanged compares: size, modification and change
// times in nanoseconds. The change time moves on every write and cannot be
// set back by the file's owner, so a write that restores the size and the
// modification time is still seen.
type fileStamp struct {
	size, mtime, ctime int64
}

// stampOf fstats f without allocating. Fd is safe here: f is a regular
// file (openRegular), so it was never in non-blocking mode.
func stampOf(f *os.File) (fileStamp, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}, nil
}
