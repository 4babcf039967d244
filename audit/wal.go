package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The write-ahead log (WAL) is what makes an append durable: the writer
// goroutine writes each group of records, in their stored form, as frames
// to an append-only file beside the database and acknowledges them after
// one fdatasync; the applier commits them to bbolt later, in large
// transactions. A WAL file is deleted once bbolt has committed all of it.
//
// File <db>-wal-<first seq, 16 hex digits>:
//
//	header: "bmcgate-audit-wal/1\n" (20 bytes) | first seq (8, big-endian)
//	        | hash of the record before it (32) | CRC-32C of the 60 bytes before (4)
//	frame:  payload length (4) | CRC-32C of the length and the payload (4) | payload
//	payload: seq of its first record (8) | record count (4)
//	        | per record: length (4) | stored form (as bbolt stores it)
//
// All integers are big-endian. The CRC catches damage; the hash chain,
// checked when the WAL is read back, catches edits.
const (
	walMagic      = "bmcgate-audit-wal/1\n"
	walHeaderSize = len(walMagic) + 8 + 32 + 4
	walFrameHead  = 8
	// walMaxFrame bounds the payload of a frame read back (a record is
	// under 2 MiB stored; the writer puts at most walFramePayload in one).
	walMaxFrame = 64 << 20
	// walFramePayload is the payload size after which the writer ends a
	// group (the rest of a batch goes into the next write).
	walFramePayload = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// walPrefix is the name prefix of the WAL files of the database at db.
func walPrefix(db string) string { return db + "-wal-" }

// walPath is the WAL file whose first record is seq.
func walPath(db string, seq uint64) string {
	return fmt.Sprintf("%s%016x", walPrefix(db), seq)
}

// walSeg is one WAL file on disk.
type walSeg struct {
	path  string
	first uint64 // first seq, from the name
}

// listWAL returns the WAL files of db in order of their first record. A
// file with the prefix but not a well-formed name is an error: nothing but
// the store writes these names.
func listWAL(db string) ([]walSeg, error) {
	dir, prefix := filepath.Dir(db), filepath.Base(walPrefix(db))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("write-ahead log: %w", err)
	}
	var segs []walSeg
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		hexSeq := name[len(prefix):]
		seq, err := strconv.ParseUint(hexSeq, 16, 64)
		if err != nil || len(hexSeq) != 16 || seq == 0 || !e.Type().IsRegular() {
			return nil, fmt.Errorf("%w: %s is not a write-ahead log file of this store", ErrCorrupt, filepath.Join(dir, name))
		}
		segs = append(segs, walSeg{path: filepath.Join(dir, name), first: seq})
	}
	// ReadDir sorts by name, and the fixed-width hex names sort by seq.
	return segs, nil
}

// walHeader encodes the header of a WAL file starting at seq after prev.
func walHeader(seq uint64, prev [32]byte) []byte {
	b := make([]byte, 0, walHeaderSize)
	b = append(b, walMagic...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, prev[:]...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// parseWALHeader decodes a header; ok is false when it is not one.
func parseWALHeader(b []byte) (seq uint64, prev [32]byte, ok bool) {
	if len(b) < walHeaderSize || string(b[:len(walMagic)]) != walMagic {
		return 0, prev, false
	}
	n := walHeaderSize - 4
	if crc32.Checksum(b[:n], crcTable) != binary.BigEndian.Uint32(b[n:]) {
		return 0, prev, false
	}
	seq = binary.BigEndian.Uint64(b[len(walMagic):])
	copy(prev[:], b[len(walMagic)+8:])
	return seq, prev, true
}

// frameWriter builds the frame of one group of records (one frame per
// write and fdatasync, so that a crash can cut short only the last frame).
type frameWriter struct {
	buf   []byte
	start int // offset of the open frame's header, -1 when none
	count int // records in the open frame
}

func (w *frameWriter) reset() { w.buf, w.start, w.count = w.buf[:0], -1, 0 }

// add appends the stored record seq, opening the frame if needed.
func (w *frameWriter) add(seq uint64, stored []byte) {
	if w.start < 0 {
		w.start = len(w.buf)
		w.buf = append(w.buf, make([]byte, walFrameHead+12)...)
		binary.BigEndian.PutUint64(w.buf[w.start+walFrameHead:], seq)
	}
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(stored)))
	w.buf = append(w.buf, stored...)
	w.count++
}

// finish closes the open frame: count, length and checksum.
func (w *frameWriter) finish() {
	if w.start < 0 {
		return
	}
	f := w.buf[w.start:]
	binary.BigEndian.PutUint32(f[walFrameHead+8:], uint32(w.count))
	binary.BigEndian.PutUint32(f, uint32(len(f)-walFrameHead))
	crc := crc32.Update(crc32.Checksum(f[:4], crcTable), crcTable, f[walFrameHead:])
	binary.BigEndian.PutUint32(f[4:], crc)
	w.start, w.count = -1, 0
}

// bytes returns the finished frame.
func (w *frameWriter) bytes() []byte { w.finish(); return w.buf }

// walFrame is one frame read back.
type walFrame struct {
	first uint64
	recs  [][]byte // stored forms, aliasing the file's bytes
	off   int64    // offset of the frame in its file
}

// errTorn says that a WAL file ends in an incomplete frame.
var errTorn = errors.New("incomplete frame at the end")

// walMaxInFlight bounds the bytes of the one frame that can be in flight
// at a crash: the writer writes one frame per group (payload at most
// walFramePayload plus one record) and waits for its fdatasync before the
// next.
const walMaxInFlight = walFramePayload + 4<<20

// readFrames decodes the frames of a WAL file's bytes after its header,
// up to the first frame header of zeros with nothing but zeros after it
// (the unused, preallocated rest of the file) or the end. A bad frame (cut
// short, failing its checksum, malformed) followed by nothing but zeros
// within walMaxInFlight, and by no good frame, is the write a crash cut
// short (errTorn, with the frames before it); any other bad frame is damage.
func readFrames(data []byte) ([]walFrame, int64, error) {
	var frames []walFrame
	end := len(bytes.TrimRight(data, "\x00"))
	off := walHeaderSize
	for off < end {
		f, n, err := parseFrame(data[off:])
		if err != nil {
			if end-off <= walMaxInFlight && !goodFrameIn(data[off+1:end]) {
				return frames, int64(off), errTorn
			}
			return frames, int64(off), fmt.Errorf("frame at offset %d: %w", off, err)
		}
		f.off = int64(off)
		frames = append(frames, f)
		off += n
	}
	return frames, int64(off), nil
}

// parseFrame decodes the frame at the start of b and returns its size.
func parseFrame(b []byte) (walFrame, int, error) {
	if len(b) < walFrameHead {
		return walFrame{}, 0, errors.New("frame header cut short")
	}
	n := int(binary.BigEndian.Uint32(b))
	end := walFrameHead + n
	if n > walMaxFrame || end > len(b) {
		return walFrame{}, 0, fmt.Errorf("length %d runs past the end of the file", n)
	}
	crc := crc32.Update(crc32.Checksum(b[:4], crcTable), crcTable, b[walFrameHead:end])
	if crc != binary.BigEndian.Uint32(b[4:]) {
		return walFrame{}, 0, errors.New("checksum mismatch")
	}
	f, err := parsePayload(b[walFrameHead:end])
	return f, end, err
}

// goodFrameIn reports whether a frame with a good checksum starts anywhere
// in b.
func goodFrameIn(b []byte) bool {
	for i := 0; i+walFrameHead+12 <= len(b); i++ {
		n := int(binary.BigEndian.Uint32(b[i:]))
		if n < 12 || i+walFrameHead+n > len(b) {
			continue
		}
		if _, _, err := parseFrame(b[i:]); err == nil {
			return true
		}
	}
	return false
}

// parsePayload splits a frame's payload into its records.
func parsePayload(p []byte) (walFrame, error) {
	if len(p) < 12 {
		return walFrame{}, errors.New("payload too short")
	}
	f := walFrame{first: binary.BigEndian.Uint64(p)}
	count := binary.BigEndian.Uint32(p[8:])
	p = p[12:]
	for range count {
		if len(p) < 4 {
			return walFrame{}, errors.New("record count exceeds the payload")
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-4) {
			return walFrame{}, errors.New("record length exceeds the payload")
		}
		f.recs = append(f.recs, p[4:4+n])
		p = p[4+n:]
	}
	if len(p) != 0 || f.first == 0 {
		return walFrame{}, errors.New("malformed payload")
	}
	return f, nil
}

// walFile is what the writer needs of an open WAL file; tests inject
// failures through Store.createWAL.
type walFile interface {
	io.WriterAt
	// Sync makes every byte written so far durable (fdatasync).
	Sync() error
	Truncate(size int64) error
	Close() error
}

// osWALFile is a WAL file on disk.
type osWALFile struct{ *os.File }

func (f osWALFile) Sync() error { return fdatasync(f.File) }

// createWALFile creates a new WAL file (never an existing one).
func createWALFile(path string) (walFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return osWALFile{f}, nil
}

// syncDir makes the directory entries of dir durable (a new or removed
// WAL file).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
