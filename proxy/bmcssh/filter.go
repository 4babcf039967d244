package bmcssh

import "bytes"

// detachFilter keeps a profile's detach sequence out of the input stream.
// It remembers the tail of what it let through, so a sequence split over
// several writes is caught too; of a sequence only the byte that would
// complete it is held back (with everything after it in that write), so
// what reaches the BMC never contains the sequence.
type detachFilter struct {
	seq  []byte
	tail []byte // the last len(seq)-1 bytes let through
}

// allow returns how many leading bytes of p may be sent and records them
// as sent.
func (f *detachFilter) allow(p []byte) int {
	if len(f.seq) == 0 {
		return len(p)
	}
	n := len(p)
	buf := append(append(make([]byte, 0, len(f.tail)+len(p)), f.tail...), p...)
	if i := bytes.Index(buf, f.seq); i >= 0 {
		n = i + len(f.seq) - 1 - len(f.tail) // the completing byte, an index into p
	}
	buf = buf[:len(f.tail)+n]
	keep := min(len(buf), len(f.seq)-1)
	f.tail = append(f.tail[:0], buf[len(buf)-keep:]...)
	return n
}

// reset forgets the tail (a new session on the BMC starts afresh).
func (f *detachFilter) reset() { f.tail = f.tail[:0] }
