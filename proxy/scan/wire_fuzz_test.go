package scan

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/bmcgate/bmcgate/internal/rmcp"
)

// within reports whether sub is a slice of the memory of b (the parsers
// return views into the datagram, never copies or memory beyond it).
func within(sub, b []byte) bool {
	if len(sub) == 0 {
		return true
	}
	for i := 0; i+len(sub) <= len(b); i++ {
		if &b[i] == &sub[0] {
			return true
		}
	}
	return false
}

// FuzzV15Response: the IPMI 1.5 answer parser never reads beyond the
// datagram, returns data from inside it, and accepts only an answer to the
// command asked for, from the BMC to the console, whose message fits the
// length byte.
func FuzzV15Response(f *testing.F) {
	answer := []byte{0x06, 0x00, 0xff, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x20, 0x1c, 0xc4, 0x20, 0x04, 0x38, 0x00, 0x01, 0x80, 0x07, 0x02, 0, 0, 0, 0, 0x1a}
	f.Add(answer, byte(0x38))
	f.Add(answer[:20], byte(0x38))
	f.Add(append([]byte{0x06, 0x00, 0xff, 0x07, 0x02}, make([]byte, 30)...), byte(0x38))
	f.Add(v15Request(rmcp.NetFnApp, 0x38, 1, []byte{0x8e, 0x04}), byte(0x38))
	f.Fuzz(func(t *testing.T, pkt []byte, cmd byte) {
		cc, data, ok := v15Response(pkt, cmd)
		if !ok {
			if cc != 0 || data != nil {
				t.Fatalf("refused with cc %#x, data %x", cc, data)
			}
			return
		}
		if pkt[0] != rmcp.Version || pkt[3]&0x1f != rmcp.ClassIPMI || !within(data, pkt) || len(data) > len(pkt)-22 {
			t.Fatalf("accepted %x: cc %#x, data %x", pkt, cc, data)
		}
		off := 13
		if pkt[4] != rmcp.AuthTypeNone {
			off += 16
		}
		msg := pkt[off+1 : off+1+int(pkt[off])]
		if msg[1]>>2 != rmcp.NetFnApp+1 || msg[5] != cmd || msg[6] != cc || !bytes.Equal(msg[7:len(msg)-1], data) {
			t.Fatalf("accepted %x as an answer to %#x", pkt, cmd)
		}
	})
}

// FuzzRMCPPPayload: the RMCP+ session-setup parser returns the payload of
// the asked-for type from inside the datagram, exactly as long as its
// length field says, and framing a payload parses back to it.
func FuzzRMCPPPayload(f *testing.F) {
	f.Add(rmcppPacket(rmcp.PayloadOpenResp, make([]byte, 36)), byte(rmcp.PayloadOpenResp))
	f.Add(rmcppPacket(rmcp.PayloadRAKP2, make([]byte, 60)), byte(rmcp.PayloadRAKP4))
	f.Add([]byte{0x06, 0x00, 0xff, 0x07, 0x06, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, byte(rmcp.PayloadOpenResp))
	f.Fuzz(func(t *testing.T, pkt []byte, ptype byte) {
		p, ok := rmcppPayload(pkt, ptype)
		if ok {
			n := int(pkt[14]) | int(pkt[15])<<8
			if len(p) != n || !within(p, pkt) || pkt[5]&0x3f != ptype {
				t.Fatalf("%x: payload %x of type %#x", pkt, p, ptype)
			}
		}
		if len(pkt) <= 0xffff {
			framed := rmcppPacket(ptype&0x3f, pkt)
			if back, ok := rmcppPayload(framed, ptype&0x3f); !ok || !bytes.Equal(back, pkt) {
				t.Fatalf("framed %x parses to %x, %v", pkt, back, ok)
			}
		}
	})
}

// FuzzParseSuites: the cipher suite record parser is bounded by its input
// (one suite per two bytes at most) and names every algorithm.
func FuzzParseSuites(f *testing.F) {
	f.Add([]byte{0xc0, 3, 0x01, 0x41, 0x81, 0xc0, 17, 0x03, 0x44, 0x81})
	f.Add([]byte{0xc0, 4, 0x01, 0x41, 0x82, 0xc1, 0x80, 0x11, 0x22, 0x33, 0x01, 0x41, 0x81})
	f.Add([]byte{0xc1, 1, 2, 3})
	f.Add([]byte{0x12, 0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		out := parseSuites(b)
		if len(out) > len(b)/2 {
			t.Fatalf("%d suites from %d bytes", len(out), len(b))
		}
		for _, s := range out {
			if s.ID < 0 || s.ID > 0xff || s.Auth == "" || s.Integrity == "" || s.Confidentiality == "" {
				t.Fatalf("suite %+v from %x", s, b)
			}
			_ = s.Weaknesses()
		}
	})
}

// FuzzPrintable: what the scan report prints of BMC-supplied text holds
// only printable characters (no controls, escapes or bidi overrides).
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"Dell Inc.", "x\x1b[2J", "\u202eevil", "\u009b31m", "\xff\xfe", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := printable(s); strings.ContainsFunc(got, func(r rune) bool { return !unicode.IsPrint(r) }) {
			t.Fatalf("printable(%q) = %q", s, got)
		}
	})
}
