package sol

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzSOLReceive feeds a sequence of SOL packets, as the session guard
// delivers them (authenticated), to a stream: each byte of input is one
// length byte and that many packet bytes. Whatever the BMC sends, the
// stream never panics, refuses oversized packets, ends only on the
// deactivation bit, outputs only a tail of each packet's data, and outputs
// no more in a run of packets with one sequence number (a packet and its
// retransmissions, possibly reordered) than the longest of them holds.
func FuzzSOLReceive(f *testing.F) {
	f.Add([]byte{6, 1, 0, 0, 0, 'h', 'i', 8, 1, 0, 0, 0, 'h', 'i', '!', '!', 4, 0, 1, 2, 0})
	f.Add([]byte{5, 2, 0, 0, 0x08, 'x', 4, 0, 0, 0, 0x20, 4, 0, 0, 0, 0, 4, 3, 0, 0, 0x10})
	f.Add([]byte{7, 1, 0, 0, 0, 'a', 'b', 'c', 5, 1, 0, 0, 0, 'a', 7, 1, 0, 0, 0, 'a', 'b', 'c'})
	f.Add([]byte{5, 15, 0, 0, 0, 'z', 5, 1, 0, 0, 0, 'y', 5, 9, 0, 0, 0, 'w'})
	f.Fuzz(func(t *testing.T, in []byte) {
		s, out := fuzzStream()
		var runSeq uint8
		var runMax, runOut int
		for len(in) > 0 {
			n := int(in[0])
			in = in[1:]
			if n > len(in) {
				n = len(in)
			}
			p := in[:n]
			in = in[n:]
			res, ok := parseSOL(p)
			if !ok {
				if len(p) >= 4 {
					t.Fatalf("packet %x not parsed", p)
				}
				continue
			}
			before := len(*out)
			err := s.receive(&res)
			got := *out
			if res.status&bmcDeactivating != 0 {
				if !errors.Is(err, errDeactivated) {
					t.Fatalf("deactivation bit: %v", err)
				}
				return
			}
			if res.seq != 0 && len(res.data) > 255 {
				if err == nil || len(got) != before {
					t.Fatalf("oversized packet taken: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("packet %x: %v", p, err)
			}
			if len(got) > before+1 {
				t.Fatalf("one packet gave %d outputs", len(got)-before)
			}
			emitted := 0
			if len(got) == before+1 {
				emitted = len(got[before])
				if res.seq == 0 || emitted == 0 || !bytes.HasSuffix(res.data, got[before]) {
					t.Fatalf("packet %x gave output %q", p, got[before])
				}
			}
			if res.seq == 0 {
				continue
			}
			if res.seq != runSeq {
				runSeq, runMax, runOut = res.seq, 0, 0
			}
			runMax, runOut = max(runMax, len(res.data)), runOut+emitted
			if runOut > runMax {
				t.Fatalf("%d bytes output for packets of sequence %d holding at most %d", runOut, runSeq, runMax)
			}
		}
	})
}

// FuzzSOLHonestBMC models a BMC that sends console output in order: new
// packets, retransmissions of the last one carrying more data, and
// acknowledgements. The stream's output is exactly the BMC's output.
func FuzzSOLHonestBMC(f *testing.F) {
	f.Add([]byte{0x10, 'a', 'b', 'c', 'd', 0x05, 'e', 0x02, 0x00})
	f.Add(bytes.Repeat([]byte{0x04, 'x'}, 40))
	f.Add([]byte{0xfc, 0x01, 0xfd, 0xfe, 0x00})
	f.Fuzz(func(t *testing.T, ops []byte) {
		s, out := fuzzStream()
		var seq uint8
		var cur, want []byte
		for len(ops) > 0 {
			op := ops[0]
			ops = ops[1:]
			k := min(int(op>>2)%32, len(ops))
			chunk := ops[:k]
			ops = ops[k:]
			var pkt []byte
			switch op % 3 {
			case 0: // a new packet
				seq, cur = nextSeq(seq), bytes.Clone(chunk)
				want = append(want, chunk...)
				pkt = append([]byte{seq, 0, 0, 0}, cur...)
			case 1: // the last packet again, with what came since
				if seq == 0 || len(cur)+len(chunk) > 255 {
					continue
				}
				cur = append(cur, chunk...)
				want = append(want, chunk...)
				pkt = append([]byte{seq, 0, 0, 0}, cur...)
			default: // an acknowledgement only
				pkt = []byte{0, 1, 0, 0}
			}
			res, _ := parseSOL(pkt)
			if err := s.receive(&res); err != nil {
				t.Fatal(err)
			}
		}
		if got := bytes.Join(*out, nil); !bytes.Equal(got, want) {
			t.Fatalf("output %q, want %q", got, want)
		}
	})
}
