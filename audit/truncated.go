package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
)

// The parts of bbolt's on-disk meta page that checkFileSize reads: a page
// header of 16 bytes, then magic, version, page size, flags (4 bytes each),
// the root bucket (16), the freelist page id (8), the high-water page id
// (8), the transaction id (8) and an FNV-64a checksum of the bytes before it.
const (
	boltPageHeader = 16
	boltMagic      = 0xED0CDAED
	boltMetaSum    = 4*4 + 16 + 8 + 8 + 8 // bytes covered by the checksum
)

// checkFileSize refuses an existing database file that is shorter than its
// own meta page says it is (a truncated copy or a disk that lost its tail):
// bbolt would map the missing pages and the process would die of SIGBUS on
// the first read. An empty file is refused too: it would silently become a
// new, empty log. A missing file is fine (Open creates it); a file that is
// not a bbolt database is left to bbolt, which reports it.
func checkFileSize(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return nil // bbolt reports it with its own open
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	size := fi.Size()
	if size == 0 {
		return fmt.Errorf("%w: the file is empty (truncated to 0 bytes?); move it aside to start a new log", ErrCorrupt)
	}
	var best struct {
		ok         bool
		pgid, txid uint64
		pageSize   uint32
	}
	pageSize := int64(0)
	for i := int64(0); i < 2; i++ {
		buf := make([]byte, boltPageHeader+boltMetaSum+8)
		if _, err := f.ReadAt(buf, i*pageSize); err != nil && !errors.Is(err, io.EOF) {
			break
		}
		m := buf[boltPageHeader:]
		le := binary.LittleEndian
		h := fnv.New64a()
		h.Write(m[:boltMetaSum])
		if le.Uint32(m[0:]) != boltMagic || h.Sum64() != le.Uint64(m[boltMetaSum:]) {
			if i == 0 {
				return nil // not a bbolt file as far as we can tell: bbolt decides
			}
			break
		}
		ps, pgid, txid := le.Uint32(m[8:]), le.Uint64(m[40:]), le.Uint64(m[48:])
		if !best.ok || txid > best.txid {
			best.ok, best.pgid, best.txid, best.pageSize = true, pgid, txid, ps
		}
		if i == 0 {
			if ps < 512 || ps > 1<<20 {
				return nil
			}
			pageSize = int64(ps)
		}
	}
	if need := int64(best.pgid) * int64(best.pageSize); best.ok && need > size {
		return fmt.Errorf("%w: the file is %d bytes but its pages need %d: it was truncated", ErrCorrupt, size, need)
	}
	return nil
}
