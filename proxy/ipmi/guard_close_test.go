package ipmi

import (
	"errors"
	"fmt"
	"testing"
)

// TestGuardCloseKeepsHandle: go-ipmi forgets its socket only when the
// socket's Close succeeds; the guard must therefore always answer with
// errHandleKept (first close and every later one), so a library goroutine
// still holding the client never writes to a nil socket.
func TestGuardCloseKeepsHandle(t *testing.T) {
	g := newGuard(Endpoint{Name: "n1", CipherSuite: 3}, nil)
	for i := range 3 {
		if err := g.Close(); !errors.Is(err, errHandleKept) {
			t.Fatalf("close %d: %v, want errHandleKept", i, err)
		}
	}
	if _, err := g.Write([]byte{0x06, 0x00, 0xff, 0x07}); err == nil {
		t.Fatal("write after close succeeded")
	}
}

func TestRealCloseError(t *testing.T) {
	boom := errors.New("CloseSession failed")
	kept := fmt.Errorf("close udp conn failed, err: %w", errHandleKept)
	tests := []struct {
		name string
		in   error
		want error
	}{
		{"nil", nil, nil},
		{"only the kept handle", kept, nil},
		{"joined with nothing else", errors.Join(nil, kept), nil},
		{"a real failure stays", errors.Join(boom, kept), boom},
		{"unrelated error stays", boom, boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := realCloseError(tc.in)
			if (got == nil) != (tc.want == nil) || (tc.want != nil && !errors.Is(got, tc.want)) {
				t.Fatalf("realCloseError(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
