package console

// minRingAlloc is the first allocation of a ring's buffer.
const minRingAlloc = 1 << 10

// ring keeps the last size bytes written to it. Its buffer grows with the
// output up to size, so a quiet console holds only what it printed.
type ring struct {
	buf  []byte // grows to size; while growing it holds exactly pos bytes
	size int    // capacity
	full bool
	pos  int
}

func newRing(size int) *ring { return &ring{size: size} }

func (r *ring) Write(p []byte) {
	if r.size == 0 || len(p) == 0 {
		return
	}
	if len(p) >= r.size {
		r.buf = r.sized()
		copy(r.buf, p[len(p)-r.size:])
		r.pos, r.full = 0, true
		return
	}
	if len(r.buf) < r.size && r.pos+len(p) <= r.size {
		r.grow(len(p))
		r.buf = append(r.buf, p...)
		r.pos = len(r.buf) % r.size
		r.full = r.pos == 0
		return
	}
	r.buf = r.sized()
	n := copy(r.buf[r.pos:], p)
	if n < len(p) {
		copy(r.buf, p[n:])
		r.full = true
	}
	r.pos = (r.pos + len(p)) % r.size
	if r.pos == 0 {
		r.full = true
	}
}

// grow makes room for extra more bytes while the buffer is still growing,
// doubling its capacity but never beyond size.
func (r *ring) grow(extra int) {
	need := len(r.buf) + extra
	if need <= cap(r.buf) {
		return
	}
	nb := make([]byte, len(r.buf), min(max(2*cap(r.buf), need, minRingAlloc), r.size))
	copy(nb, r.buf)
	r.buf = nb
}

// sized returns the buffer at its full size, keeping its contents.
func (r *ring) sized() []byte {
	if len(r.buf) == r.size {
		return r.buf
	}
	nb := make([]byte, r.size)
	copy(nb, r.buf)
	return nb
}

// Bytes returns a copy of the kept bytes, oldest first.
func (r *ring) Bytes() []byte {
	if !r.full {
		return append([]byte(nil), r.buf[:r.pos]...)
	}
	out := make([]byte, 0, r.size)
	out = append(out, r.buf[r.pos:]...)
	return append(out, r.buf[:r.pos]...)
}
