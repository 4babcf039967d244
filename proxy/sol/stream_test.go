package sol

import (
	"bytes"
	"testing"
)

// fuzzStream returns a stream whose line collects the console output.
func fuzzStream() (*stream, *[][]byte) {
	var out [][]byte
	l := &Line{opts: Options{OnOutput: func(p []byte) { out = append(out, bytes.Clone(p)) }}.withDefaults(),
		wake: make(chan struct{}, 1)}
	return &stream{l: l}, &out
}

// TestReceiveReorderedRetransmission: a retransmission overtaken by a
// longer copy of the same packet (UDP reorders) does not make the stream
// forget what it took, so the next copy adds only what is new.
func TestReceiveReorderedRetransmission(t *testing.T) {
	s, out := fuzzStream()
	for _, data := range []string{"abc", "a", "abcd"} {
		res := solPacket{seq: 1, data: []byte(data)}
		if err := s.receive(&res); err != nil {
			t.Fatal(err)
		}
	}
	if got := bytes.Join(*out, nil); string(got) != "abcd" {
		t.Fatalf("output %q, want abcd", got)
	}
	if s.accepted != 4 {
		t.Fatalf("accepted %d characters, want 4", s.accepted)
	}
}
