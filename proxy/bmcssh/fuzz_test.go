package bmcssh

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDetachFilter: whatever the writes, the stream let through never
// holds the detach sequence, and only the byte completing it (and what
// follows in that write) is held back.
func FuzzDetachFilter(f *testing.F) {
	f.Add("\x1b(", []byte("ab\x1b(cd"), 2)
	f.Add("\r\x1bT", []byte("\r\r\x1b\x1bT\rT"), 1)
	f.Add("\x1c", []byte("\x1c\x1c"), 1)
	f.Fuzz(func(t *testing.T, seq string, input []byte, split int) {
		if len(seq) == 0 || len(seq) > maxDetachLen {
			return
		}
		f := detachFilter{seq: []byte(seq)}
		if split <= 0 {
			split = 1
		}
		var sent []byte
		for len(input) > 0 {
			w := input[:min(split, len(input))]
			input = input[len(w):]
			n := f.allow(w)
			if n < 0 || n > len(w) {
				t.Fatalf("allow returned %d for %d bytes", n, len(w))
			}
			if n < len(w) && !bytes.HasSuffix(append(append([]byte(nil), sent...), w[:n+1]...), []byte(seq)) {
				t.Fatalf("held back %q after %q without completing %q", w[n:], sent, seq)
			}
			sent = append(sent, w[:n]...)
			if bytes.Contains(sent, []byte(seq)) {
				t.Fatalf("sent %q holds %q", sent, seq)
			}
		}
	})
}

// FuzzParseHostKey: a pin line that parses prints back as a line that
// parses to the same key.
func FuzzParseHostKey(f *testing.F) {
	f.Add("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl comment")
	f.Add("SHA256:abc")
	f.Add("ssh-dss AAAA")
	f.Fuzz(func(t *testing.T, line string) {
		hk, err := ParseHostKey(line)
		if err != nil {
			return
		}
		back, err := ParseHostKey(hk.String())
		if err != nil || !back.Equal(hk.PublicKey()) {
			t.Fatalf("%q printed as %q, which parses to %v (%v)", line, hk.String(), back, err)
		}
		if !strings.HasPrefix(hk.Fingerprint(), "SHA256:") {
			t.Fatalf("fingerprint %q", hk.Fingerprint())
		}
	})
}
