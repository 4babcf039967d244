package console

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestRingKeepsTail writes chunks of many sizes and checks that the ring
// always holds the last size bytes written and never allocates beyond size.
func TestRingKeepsTail(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		chunks []int
	}{
		{"small writes fill", 64, []int{1, 2, 3, 10, 20, 28, 1, 5}},
		{"exact fill", 64, []int{32, 32, 1}},
		{"grow then wrap", 4096, []int{100, 900, 1000, 2000, 500, 4000, 7}},
		{"one oversized write", 100, []int{5, 250, 3}},
		{"size not a power of two", 1500, []int{1024, 400, 77, 1499, 1500, 2}},
		{"many tiny", 2048, repeat(3, 2000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(tt.size)
			var all []byte
			for i, n := range tt.chunks {
				p := make([]byte, n)
				for j := range p {
					p[j] = byte('a' + (i+j)%26)
				}
				r.Write(p)
				all = append(all, p...)
				want := all[max(0, len(all)-tt.size):]
				if got := r.Bytes(); !bytes.Equal(got, want) {
					t.Fatalf("after chunk %d: got %d bytes %q…, want %d bytes", i, len(got), got[:min(len(got), 16)], len(want))
				}
				if cap(r.buf) > tt.size {
					t.Fatalf("buffer capacity %d exceeds size %d", cap(r.buf), tt.size)
				}
			}
		})
	}
}

// TestRingGrowsLazily checks that a quiet console does not hold a full
// scrollback buffer.
func TestRingGrowsLazily(t *testing.T) {
	r := newRing(64 << 10)
	r.Write([]byte("node01 login: "))
	if c := cap(r.buf); c > minRingAlloc {
		t.Fatalf("capacity %d after a short write, want at most %d", c, minRingAlloc)
	}
}

func TestRingRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		size := 1 + rng.IntN(5000)
		r := newRing(size)
		var all []byte
		for range 200 {
			p := make([]byte, rng.IntN(size/2+2))
			for j := range p {
				p[j] = byte(rng.IntN(256))
			}
			r.Write(p)
			all = append(all, p...)
		}
		if want := all[max(0, len(all)-size):]; !bytes.Equal(r.Bytes(), want) {
			t.Fatalf("size %d: tail differs", size)
		}
	}
}

func repeat(n, times int) []int {
	out := make([]int, times)
	for i := range out {
		out[i] = n
	}
	return out
}
