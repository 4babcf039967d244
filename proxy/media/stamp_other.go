//go:build !linux

package media

import "os"

// fileStamp is what Unchanged compares: size and modification time (this
// system's change time is not read).
type fileStamp struct {
	size, mtime int64
}

// stampOf stats f.
func stampOf(f *os.File) (fileStamp, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}, nil
}
