package audit

import (
	"errors"
	"fmt"
	"os"
)

// DefaultWALSize is the default Options.WALSize.
const DefaultWALSize = 64 << 20

// walWriter is the writer goroutine's open WAL file. Only the writer
// touches it (and Open and Close, when the writer is not running); the
// list of full files waiting for the applier is shared, under segMu.
type walWriter struct {
	f     walFile
	path  string
	first uint64 // first record of the file
	size  int64
}

// doneSeg is a full WAL file: it can go once the database holds last.
type doneSeg struct {
	path string
	last uint64
}

// startWAL creates the WAL file for the records after the head.
func (s *Store) startWAL() error {
	path := walPath(s.path, s.headSeq+1)
	f, err := s.createWAL(path)
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	hdr := walHeader(s.headSeq+1, s.headHash)
	err = writeAll(f, hdr)
	if err == nil && !s.noSync {
		err = f.Sync()
	}
	if err == nil {
		err = s.syncDir(s.dir)
	}
	if err != nil {
		f.Close()
		os.Remove(path) // holds no record
		return fmt.Errorf("write-ahead log %s: %w", path, err)
	}
	s.wal = walWriter{f: f, path: path, first: s.headSeq + 1, size: int64(len(hdr))}
	return nil
}

// writeAll writes p, turning a short write into an error.
func writeAll(f walFile, p []byte) error {
	n, err := f.Write(p)
	if err == nil && n != len(p) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(p))
	}
	return err
}

// walAppend writes one group's frames and makes them durable. On error
// the file is cut back to where the group began (best effort: the group
// was refused, so a replay must not find it) and the error is returned;
// the caller fails the store.
func (s *Store) walAppend(frames []byte) error {
	if s.wal.f == nil {
		return errors.New("write-ahead log is not open")
	}
	if s.beforeWAL != nil {
		if err := s.beforeWAL(); err != nil {
			return fmt.Errorf("write-ahead log %s: %w", s.wal.path, err)
		}
	}
	err := writeAll(s.wal.f, frames)
	if err == nil && !s.noSync {
		err = s.wal.f.Sync()
	}
	if err != nil {
		if terr := s.wal.f.Truncate(s.wal.size); terr != nil {
			s.log.Error("audit write-ahead log: cannot cut back a refused write; a restart may find it", "file", s.wal.path, "err", terr)
		}
		return fmt.Errorf("write-ahead log %s: %w", s.wal.path, err)
	}
	s.wal.size += int64(len(frames))
	return nil
}

// rotateWAL starts a new WAL file when the current one is full; the full
// one is deleted once the applier has committed all of it.
func (s *Store) rotateWAL() error {
	if s.wal.size < s.walSize {
		return nil
	}
	old := s.wal
	if err := s.startWAL(); err != nil {
		return err
	}
	if err := old.f.Close(); err != nil {
		s.log.Warn("audit write-ahead log: close", "file", old.path, "err", err)
	}
	s.segMu.Lock()
	s.doneSegs = append(s.doneSegs, doneSeg{path: old.path, last: s.wal.first - 1})
	s.segMu.Unlock()
	s.dropCovered(s.appliedSeq())
	return nil
}

// dropCovered deletes the full WAL files whose records the database
// holds (up to applied).
func (s *Store) dropCovered(applied uint64) {
	s.segMu.Lock()
	var drop []walSeg
	for len(s.doneSegs) > 0 && s.doneSegs[0].last <= applied {
		drop = append(drop, walSeg{path: s.doneSegs[0].path})
		s.doneSegs = s.doneSegs[1:]
	}
	s.segMu.Unlock()
	if err := s.removeSegs(drop); err != nil {
		// Harmless for the records (the next Open finds them in the
		// database and checks them), but the disk fills: say so.
		s.log.Error("audit write-ahead log: cannot remove a file the database covers", "err", err)
	}
}

// closeWAL closes the WAL file at Close. When the database holds every
// record (the normal case) the WAL files are removed; otherwise they stay
// for the next Open to replay.
func (s *Store) closeWAL() {
	if s.wal.f == nil {
		return
	}
	if err := s.wal.f.Close(); err != nil {
		s.log.Warn("audit write-ahead log: close", "file", s.wal.path, "err", err)
	}
	if s.failure() != nil {
		s.log.Error("audit log closed after a failure; the write-ahead log keeps the acknowledged records for the next start", "file", s.wal.path)
		return
	}
	s.segMu.Lock()
	var segs []walSeg
	for _, d := range s.doneSegs {
		segs = append(segs, walSeg{path: d.path})
	}
	s.doneSegs = nil
	s.segMu.Unlock()
	if err := s.removeSegs(append(segs, walSeg{path: s.wal.path})); err != nil {
		s.log.Error("audit write-ahead log: cannot remove a file the database covers", "err", err)
	}
	s.wal = walWriter{}
}
