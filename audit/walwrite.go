package audit

import (
	"errors"
	"fmt"
	"os"
)

// DefaultWALSize is the default Options.WALSize.
const DefaultWALSize = 8 << 20

// spareAfter is the size of a WAL file that was not preallocated from
// which the writer has a preallocated one prepared (a store that appends
// a few records never writes one); half of WALSize if that is less.
const spareAfter = 1 << 20

// Spare file states.
const (
	spareNone int32 = iota
	spareMaking
	spareReady
	spareFailed // not tried again until the next Open
)

// walWriter is the writer goroutine's open WAL file. Only the writer
// touches it (and Open and Close, when the writer is not running); the
// list of full files waiting for the applier is shared, under segMu.
type walWriter struct {
	f        walFile
	path     string
	first    uint64 // first record of the file
	size     int64  // bytes written (the next frame's offset)
	prealloc bool   // the file was zero-filled to WALSize beforehand
}

// doneSeg is a full WAL file: it can go once the database holds last.
type doneSeg struct {
	path string
	last uint64
}

// sparePath is the preallocated file the next WAL file is made from: a
// file of zeros, WALSize long, made durable ahead of time, so that a
// group's fdatasync writes data blocks only, never the file's size. Its
// name does not start with walPrefix: it holds no record.
func sparePath(db string) string { return db + "-wal.spare" }

// startWAL begins the WAL file for the records after the head: the
// spare, when one is ready, or a new empty file.
func (s *Store) startWAL() error {
	path := walPath(s.path, s.headSeq+1)
	f, prealloc, err := s.newWALFile(path)
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	hdr := walHeader(s.headSeq+1, s.headHash)
	err = writeAt(f, hdr, 0)
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
	s.wal = walWriter{f: f, path: path, first: s.headSeq + 1, size: int64(len(hdr)), prealloc: prealloc}
	return nil
}

// newWALFile renames the spare to path if it is ready, or creates path.
func (s *Store) newWALFile(path string) (walFile, bool, error) {
	if s.spare.Load() == spareReady {
		s.spare.Store(spareNone)
		if err := os.Rename(sparePath(s.path), path); err == nil {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err == nil {
				return osWALFile{f}, true, nil
			}
			os.Remove(path)
		}
	}
	f, err := s.createWAL(path)
	return f, false, err
}

// maybeSpare starts preparing a spare when the writer is busy enough to
// use one and none is ready or being made.
func (s *Store) maybeSpare() {
	if s.noSync || s.spare.Load() != spareNone || (!s.wal.prealloc && s.wal.size < min(spareAfter, s.walSize/2)) {
		return
	}
	s.spare.Store(spareMaking)
	s.spareWG.Go(func() {
		if err := makeSpare(sparePath(s.path), s.walSize); err != nil {
			s.log.Warn("audit write-ahead log: cannot preallocate the next file; appends go on, slower", "err", err)
			s.spare.Store(spareFailed)
			return
		}
		s.spare.Store(spareReady)
	})
}

// makeSpare writes a durable file of size zeros at path.
func makeSpare(path string, size int64) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size && err == nil; off += int64(len(zeros)) {
		_, err = f.Write(zeros[:min(int64(len(zeros)), size-off)])
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// writeAt writes p at off, turning a short write into an error.
func writeAt(f walFile, p []byte, off int64) error {
	n, err := f.WriteAt(p, off)
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
	err := writeAt(s.wal.f, frames, s.wal.size)
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
	s.maybeSpare()
	if s.wal.size < s.walSize && (s.wal.prealloc || s.spare.Load() != spareReady) {
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
	s.spareWG.Wait()
	if err := os.Remove(sparePath(s.path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("audit write-ahead log: remove the spare file", "err", err)
	}
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
