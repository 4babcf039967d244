package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
	bolt "go.etcd.io/bbolt"
)

// holdApplier blocks the applier inside its next commit until the returned
// release is called (also on cleanup). The store must be settled (the
// applier idle) when it is called.
func holdApplier(t *testing.T, s *Store) (started <-chan struct{}, release func()) {
	t.Helper()
	must(t, s.settle(context.Background()))
	st, rel := make(chan struct{}), make(chan struct{})
	var once, relOnce sync.Once
	s.beforeCommit = func(*bolt.Tx) error {
		once.Do(func() { close(st); <-rel })
		return nil
	}
	release = func() { relOnce.Do(func() { close(rel) }) }
	t.Cleanup(release)
	return st, release
}

// crashState returns the path of a database as a crash leaves it: the
// database holds the first base records, and the WAL files hold them and
// the next walRecs ones, acknowledged (one group each) but never committed
// to the database. It returns every record acknowledged.
func crashState(t *testing.T, base, walRecs int, opts Options) (string, []Record) {
	t.Helper()
	opts.Logger = quietLogger()
	src := filepath.Join(t.TempDir(), "audit.db")
	s, err := Open(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	recs := fill(t, s, base)
	started, release := holdApplier(t, s)
	for i := range walRecs {
		recs = append(recs, mustAppend(t, s, rec("dave", "power.cycle", "node07", OutcomeAllow)))
		if i == 0 {
			<-started // the applier holds the database's write lock from here on
		}
	}
	dst := filepath.Join(t.TempDir(), "audit.db")
	copyFile(t, src, dst)
	segs, err := listWAL(src)
	if err != nil || len(segs) == 0 {
		t.Fatalf("WAL files: %v, %v", segs, err)
	}
	for _, seg := range segs {
		copyFile(t, seg.path, filepath.Join(filepath.Dir(dst), filepath.Base(seg.path)))
	}
	release()
	must(t, s.Close())
	return dst, recs
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// walSegs lists the WAL files of path.
func walSegs(t *testing.T, path string) []walSeg {
	t.Helper()
	segs, err := listWAL(path)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// checkHas fails unless the store holds every record of want, unchanged,
// and verifies.
func checkHas(t *testing.T, s *Store, want []Record) {
	t.Helper()
	for _, r := range want {
		got, err := s.Get(context.Background(), r.Seq)
		if err != nil || got.Hash != r.Hash {
			t.Fatalf("Get(#%d) = %s, %v; want hash %s", r.Seq, got.Hash, err, r.Hash)
		}
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != uint64(len(want)) {
		t.Fatalf("Verify = %+v, want %d good records", rep, len(want))
	}
}

// A writable Open replays the acknowledged records only the WAL holds,
// across several WAL files, and removes the WAL files; a read-only Open
// sees them without changing anything.
func TestWALReplay(t *testing.T) {
	path, want := crashState(t, 3, 6, Options{WALSize: 1}) // a new file after every group
	if n := len(walSegs(t, path)); n < 6 {
		t.Fatalf("%d WAL files, want one per group", n)
	}

	ro, err := Open(path, Options{ReadOnly: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if seq, hash := ro.Head(); seq != 9 || hash != want[8].Hash {
		t.Fatalf("read-only Head = %d %s, want 9 %s", seq, hash, want[8].Hash)
	}
	rep := mustVerify(t, ro)
	if !rep.OK || rep.Records != 9 || !strings.Contains(rep.Note, "records #4 to #9 are only in the write-ahead log") || strings.Contains(rep.Note, "no search indexes") {
		t.Fatalf("read-only Verify = %+v, want 9 records and a note on the WAL", rep)
	}
	var found []uint64
	must(t, ro.Search(context.Background(), Query{Actor: "dave", Newest: true, Limit: 4}, func(r Record) error {
		found = append(found, r.Seq)
		return nil
	}))
	if want := []uint64{9, 8, 7, 6}; !equalSeqs(found, want) {
		t.Fatalf("read-only Search = %v, want %v", found, want)
	}
	if r, err := ro.Get(context.Background(), 5); err != nil || r.Hash != want[4].Hash {
		t.Fatalf("read-only Get(#5) = %+v, %v", r, err)
	}
	must(t, ro.Close())

	var logs bytes.Buffer
	s := openStore(t, path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.Contains(logs.String(), "replayed") {
		t.Fatalf("no log line on replay: %s", logs.String())
	}
	checkHas(t, s, want)
	if segs := walSegs(t, path); len(segs) != 1 || segs[0].first != 10 {
		t.Fatalf("WAL files after replay = %+v, want one new file from #10", segs)
	}
	r := mustAppend(t, s, Record{Code: CodeCmdRun})
	if r.Seq != 10 || r.Prev != want[8].Hash {
		t.Fatalf("append after replay: #%d prev %s", r.Seq, r.Prev)
	}
	must(t, s.Close())
	if segs := walSegs(t, path); len(segs) != 0 {
		t.Fatalf("WAL files after a clean Close: %+v", segs)
	}
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// lastSeg returns the path and bytes of the last WAL file of path.
func lastSeg(t *testing.T, path string) (string, []byte) {
	t.Helper()
	segs := walSegs(t, path)
	p := segs[len(segs)-1].path
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

// frameOffsets returns the offsets of the frames of a WAL file's bytes.
func frameOffsets(t *testing.T, b []byte) []int {
	t.Helper()
	frames, _, err := readFrames(b)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for _, f := range frames {
		offs = append(offs, int(f.off))
	}
	return offs
}

// An incomplete last frame (the crash cut the write short: never
// acknowledged) is discarded with a log line; everything before it stays.
func TestWALTornTail(t *testing.T) {
	zeros := make([]byte, 1<<20)
	for _, tc := range []struct {
		name   string
		cut    func(b []byte, offs []int) []byte
		newSeg []byte // a new last file's bytes instead
		keep   int    // records kept
		torn   bool   // a log line about the discarded write
	}{
		{"last frame cut short", func(b []byte, offs []int) []byte { return b[:len(b)-7] }, nil, 7, true},
		{"only its length written", func(b []byte, offs []int) []byte { return b[:offs[len(offs)-1]+3] }, nil, 7, true},
		{"last frame garbled to the end", func(b []byte, offs []int) []byte {
			b[len(b)-2] ^= 0xff
			return b
		}, nil, 7, true},
		{"last frame's first page lost in a preallocated file", func(b []byte, offs []int) []byte {
			last := offs[len(offs)-1]
			clear(b[last : last+20])
			return append(b, zeros...)
		}, nil, 7, true},
		{"preallocated zeros after the last frame", func(b []byte, offs []int) []byte { return append(b, zeros...) }, nil, 8, false},
		{"header of a new file cut short", nil, []byte(walMagic[:7]), 8, true},
		{"a spare renamed before its header was written", nil, zeros, 8, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, want := crashState(t, 3, 5, Options{})
			p, b := lastSeg(t, path)
			if tc.cut != nil {
				must(t, os.WriteFile(p, tc.cut(b, frameOffsets(t, b)), 0o600))
			} else {
				must(t, os.WriteFile(walPath(path, 9), tc.newSeg, 0o600))
			}
			var logs bytes.Buffer
			s := openStore(t, path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if got := strings.Contains(logs.String(), "incomplete write"); got != tc.torn {
				t.Fatalf("log line for a torn tail: %v, want %v: %s", got, tc.torn, logs.String())
			}
			checkHas(t, s, want[:tc.keep])
			if r := mustAppend(t, s, Record{Code: CodeCmdRun}); r.Seq != uint64(tc.keep+1) {
				t.Fatalf("next append is #%d, want #%d", r.Seq, tc.keep+1)
			}
		})
	}
}

// refuseOpen opens path and fails unless Open refuses with ErrCorrupt in
// one line naming the WAL file and saying what is wrong.
func refuseOpen(t *testing.T, path string, opts Options, file, problem string) {
	t.Helper()
	for _, ro := range []bool{false, true} {
		opts.ReadOnly, opts.Logger = ro, quietLogger()
		s, err := Open(path, opts)
		if err == nil {
			s.Close()
			t.Fatalf("Open (read-only %v) accepted a damaged WAL", ro)
		}
		msg := err.Error()
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(msg, file) || !strings.Contains(msg, problem) || strings.Contains(msg, "\n") {
			t.Fatalf("Open (read-only %v) = %v; want ErrCorrupt naming %s and %q", ro, err, file, problem)
		}
	}
}

// setFrameCRC recomputes the checksum of the frame at off.
func setFrameCRC(b []byte, off int) {
	n := binary.BigEndian.Uint32(b[off:])
	crc := crc32.Update(crc32.Checksum(b[off:off+4], crcTable), crcTable, b[off+walFrameHead:off+walFrameHead+int(n)])
	binary.BigEndian.PutUint32(b[off+4:], crc)
}

// Damage or edits anywhere but in the last frame refuse the open, read-only
// too, naming the file; no record is dropped or rewritten.
func TestWALDamageRefusesOpen(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		damage  func(t *testing.T, path string) string // returns the file to name
		problem string
	}{
		{"corrupted middle frame", Options{}, func(t *testing.T, path string) string {
			p, b := lastSeg(t, path)
			offs := frameOffsets(t, b)
			b[offs[4]+walFrameHead+40] ^= 0x01
			must(t, os.WriteFile(p, b, 0o600))
			return p
		}, "checksum mismatch"},
		{"wrong checksum", Options{}, func(t *testing.T, path string) string {
			p, b := lastSeg(t, path)
			offs := frameOffsets(t, b)
			b[offs[2]+5] ^= 0x80
			must(t, os.WriteFile(p, b, 0o600))
			return p
		}, "checksum mismatch"},
		{"edited record with a fixed checksum", Options{}, func(t *testing.T, path string) string {
			p, b := lastSeg(t, path)
			offs := frameOffsets(t, b)
			i := bytes.Index(b[offs[5]:], []byte(`"dave"`)) + offs[5]
			copy(b[i:], `"evee"`)
			setFrameCRC(b, offs[5])
			must(t, os.WriteFile(p, b, 0o600))
			return p
		}, "record #6"},
		{"gap: a file missing", Options{WALSize: 1}, func(t *testing.T, path string) string {
			segs := walSegs(t, path)
			must(t, os.Remove(segs[len(segs)-3].path))
			return segs[len(segs)-2].path
		}, "records missing"},
		{"gap: a frame missing", Options{}, func(t *testing.T, path string) string {
			p, b := lastSeg(t, path)
			offs := frameOffsets(t, b)
			b = append(b[:offs[5]:offs[5]], b[offs[6]:]...)
			must(t, os.WriteFile(p, b, 0o600))
			return p
		}, "records missing"},
		{"a WAL of another log", Options{}, func(t *testing.T, path string) string {
			other, _ := crashState(t, 3, 5, Options{})
			for _, seg := range walSegs(t, path) {
				must(t, os.Remove(seg.path))
			}
			var p string
			for _, seg := range walSegs(t, other) {
				p = filepath.Join(filepath.Dir(path), filepath.Base(seg.path))
				copyFile(t, seg.path, p)
			}
			return p
		}, "another audit log"},
		{"not a WAL file", Options{}, func(t *testing.T, path string) string {
			p := walPrefix(path) + "notes"
			must(t, os.WriteFile(p, []byte("x"), 0o600))
			return p
		}, "not a write-ahead log file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := crashState(t, 3, 5, tc.opts)
			file := tc.damage(t, path)
			before := walSums(t, path)
			refuseOpen(t, path, tc.opts, file, tc.problem)
			if after := walSums(t, path); !maps.Equal(after, before) {
				t.Fatal("a refused Open changed the write-ahead log")
			}
		})
	}
}

// walSums hashes the WAL files of path by name.
func walSums(t *testing.T, path string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	files, err := filepath.Glob(walPrefix(path) + "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		sums[f] = fileSum(t, f)
	}
	return sums
}

// failingFile is a WAL file whose Sync fails from the nth call on.
type failingFile struct {
	walFile
	syncs  *atomic.Int64
	failAt int64
}

func (f failingFile) Sync() error {
	if f.syncs.Add(1) >= f.failAt {
		return errInjected
	}
	return f.walFile.Sync()
}

// A failing fdatasync refuses the group, fails the store and leaves the
// refused records out of the log after a restart.
func TestWALFsyncFailure(t *testing.T) {
	var syncs atomic.Int64
	opts := Options{createWAL: func(path string) (walFile, error) {
		f, err := createWALFile(path)
		if err != nil {
			return nil, err
		}
		return failingFile{walFile: f, syncs: &syncs, failAt: 5}, nil // 1 for the header, then 3 groups
	}}
	s, path := newStore(t, opts)
	want := fill(t, s, 3)
	if _, err := s.Append(context.Background(), Record{Code: CodeDecision, Actor: "mallory"}); !errors.Is(err, errInjected) {
		t.Fatalf("Append with a failing fsync = %v, want the injected error", err)
	}
	if _, err := s.Append(context.Background(), Record{Code: CodeDecision, Actor: "mallory"}); !errors.Is(err, ErrFailed) {
		t.Fatalf("Append after a failed fsync = %v, want ErrFailed", err)
	}
	if err := s.Enqueue(context.Background(), Record{Code: CodeWebUIRequest, Actor: "mallory"}); err != nil {
		t.Fatalf("Enqueue = %v (it fails at its commit, not here)", err)
	}
	must(t, s.Close())

	s = openStore(t, path, Options{})
	checkHas(t, s, want)
	n := 0
	must(t, s.Search(context.Background(), Query{Actor: "mallory"}, func(Record) error { n++; return nil }))
	if n != 0 {
		t.Fatalf("%d refused records are in the log", n)
	}
}

// Appends wait while the database is MaxLag records behind, and go on once
// it catches up.
func TestWALApplierLagBound(t *testing.T) {
	s, _ := newStore(t, Options{MaxLag: 4, NoSync: true})
	fill(t, s, 1)
	started, release := holdApplier(t, s)
	mustAppend(t, s, Record{Code: CodeCmdRun})
	<-started
	fill(t, s, 3) // 4 acknowledged and not applied
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Append(ctx, Record{Code: CodeCmdRun}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append past the lag bound = %v, want it to wait until its deadline", err)
	}
	release()
	if r := mustAppend(t, s, Record{Code: CodeCmdRun}); r.Seq != 6 {
		t.Fatalf("Append after the applier caught up: #%d, want #6 (the abandoned one not stored)", r.Seq)
	}
}

// A search begun after an append returns sees it, even while the database
// is behind (it waits for the applier, bounded by its context).
func TestWALReadYourWrites(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	fill(t, s, 2)
	started, release := holdApplier(t, s)
	r := mustAppend(t, s, Record{Code: CodeCmdRun, Actor: "erin"})
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Search(ctx, Query{Actor: "erin"}, func(Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Search with an ended context while the database is behind = %v", err)
	}
	got := make(chan []uint64, 1)
	go func() {
		var seqs []uint64
		err := s.Search(context.Background(), Query{Actor: "erin"}, func(r Record) error { seqs = append(seqs, r.Seq); return nil })
		if err != nil {
			t.Error(err)
		}
		got <- seqs
	}()
	release()
	if seqs := <-got; !equalSeqs(seqs, []uint64{r.Seq}) {
		t.Fatalf("Search = %v, want [%d]", seqs, r.Seq)
	}
	if rec, err := s.Get(context.Background(), r.Seq); err != nil || rec.Hash != r.Hash {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
}

// Full WAL files are removed once the database holds them; the files
// never hold much more than WALSize plus what the applier lags.
func TestWALRotation(t *testing.T) {
	s, path := newStore(t, Options{WALSize: 4096, NoSync: true})
	concurrentFill(t, s, 2000)
	must(t, s.settle(context.Background()))
	segs := walSegs(t, path)
	if len(segs) > 2 {
		t.Fatalf("%d WAL files after the database caught up, want at most 2", len(segs))
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 2000 {
		t.Fatalf("Verify = %+v", rep)
	}
}

// The WAL files are where the data directory's layout says they are.
func TestWALNameInDataDir(t *testing.T) {
	dir := t.TempDir()
	if got, want := walPrefix(filepath.Join(dir, datadir.AuditDB)), filepath.Join(dir, datadir.AuditWALPrefix); got != want {
		t.Fatalf("WAL prefix %s, the data directory's layout says %s", got, want)
	}
}

// A busy writer preallocates its next WAL files (the spare) and uses them;
// a clean Close leaves neither WAL files nor a spare behind.
func TestWALSpareAndCleanClose(t *testing.T) {
	s, path := newStore(t, Options{WALSize: 64 << 10})
	want := concurrentFill(t, s, 1500)
	must(t, s.settle(context.Background()))
	must(t, s.Close())
	left, err := filepath.Glob(path + "-wal*")
	if err != nil || len(left) != 0 {
		t.Fatalf("files left after a clean Close: %v, %v", left, err)
	}
	s = openStore(t, path, Options{})
	checkHas(t, s, want)
}

// The writer takes the spare when it is ready: a file of WALSize zeros
// becomes the next WAL file and later groups go into it.
func TestWALUsesSpare(t *testing.T) {
	s, path := newStore(t, Options{WALSize: 64 << 10})
	must(t, makeSpare(sparePath(path), 64<<10))
	s.spare.Store(spareReady) // as the goroutine that made it would
	// The first group's commit rotates into the spare after answering;
	// the second group is written by the writer after that rotation.
	fill(t, s, 2)
	more := fill(t, s, 20)
	must(t, s.settle(context.Background())) // the database holds #1: its file is gone
	segs := walSegs(t, path)
	if len(segs) != 1 || segs[0].first != 2 {
		t.Fatalf("WAL files %+v, want the one made from the spare, from #2", segs)
	}
	fi, err := os.Stat(segs[0].path)
	if err != nil || fi.Size() != 64<<10 {
		t.Fatalf("the WAL file made from the spare: %v, %v; want its preallocated size", fi, err)
	}
	if r, err := s.Get(context.Background(), more[19].Seq); err != nil || r.Hash != more[19].Hash {
		t.Fatalf("Get = %+v, %v", r, err)
	}
}
