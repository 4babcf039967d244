package scan

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/rmcp"
	"github.com/bougou/go-ipmi/pkg/crypto"
	"github.com/bougou/go-ipmi/pkg/types"
)

func TestV15RequestFraming(t *testing.T) {
	pkt := v15Request(rmcp.NetFnApp, 0x38, 1, []byte{0x8e, 0x04})
	want := []byte{0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0x20, 0x18, 0xc8, 0x81, 0x04, 0x38, 0x8e, 0x04, 0xb1}
	if !bytes.Equal(pkt, want) {
		t.Errorf("packet\n% x\nwant\n% x", pkt, want)
	}
}

func TestV15Response(t *testing.T) {
	// A real answer from the reference BMC.
	pkt := []byte{0x06, 0x00, 0xff, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x20, 0x1c, 0xc4, 0x20, 0x04, 0x38, 0x00, 0x01, 0x80, 0x07, 0x02, 0, 0, 0, 0, 0x1a}
	for _, tc := range []struct {
		name   string
		pkt    []byte
		cmd    byte
		ok     bool
		wantCC byte
	}{
		{"answer", pkt, 0x38, true, 0},
		{"other command", pkt, 0x54, false, 0},
		{"truncated", pkt[:20], 0x38, false, 0},
		{"not RMCP", append([]byte{0x05}, pkt[1:]...), 0x38, false, 0},
		{"empty", nil, 0x38, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc, data, ok := v15Response(tc.pkt, tc.cmd)
			if ok != tc.ok || cc != tc.wantCC {
				t.Fatalf("ok=%v cc=%#x", ok, cc)
			}
			if ok && !bytes.Equal(data, []byte{0x01, 0x80, 0x07, 0x02, 0, 0, 0, 0}) {
				t.Errorf("data % x", data)
			}
		})
	}
}

func TestRMCPPPayload(t *testing.T) {
	p := rmcppPacket(rmcp.PayloadOpenReq, []byte{1, 2, 3})
	if got, ok := rmcppPayload(p, rmcp.PayloadOpenReq); !ok || !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Errorf("round trip: %v % x", ok, got)
	}
	if _, ok := rmcppPayload(p, rmcp.PayloadRAKP2); ok {
		t.Error("wrong payload type accepted")
	}
	if _, ok := rmcppPayload(p[:len(p)-1], rmcp.PayloadOpenReq); ok {
		t.Error("truncated payload accepted")
	}
}

func TestParseSuites(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want []Suite
	}{
		{"3 and 17", []byte{0xc0, 3, 0x01, 0x41, 0x81, 0xc0, 17, 0x03, 0x44, 0x81},
			[]Suite{{3, "hmac-sha1", "hmac-sha1-96", "aes-cbc-128"}, {17, "hmac-sha256", "hmac-sha256-128", "aes-cbc-128"}}},
		{"suite 0 omits none algorithms", []byte{0xc0, 0, 0x00}, []Suite{{0, "none", "none", "none"}}},
		{"rc4 and oem record", []byte{0xc0, 4, 0x01, 0x41, 0x82, 0xc1, 0x80, 0x11, 0x22, 0x33, 0x01, 0x41, 0x81},
			[]Suite{{4, "hmac-sha1", "hmac-sha1-96", "xrc4-128"}, {0x80, "hmac-sha1", "hmac-sha1-96", "aes-cbc-128"}}},
		{"garbage", []byte{0x12, 0xc0}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseSuites(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if w := (Suite{4, "hmac-sha1", "hmac-sha1-96", "xrc4-128"}).Weaknesses(); !slices.Equal(w, []string{"RC4"}) {
		t.Errorf("weaknesses %v", w)
	}
}

// TestRAKPMACMatchesGoIPMI checks the offline password test against
// go-ipmi's own RAKP message 2 computation, for both hashes.
func TestRAKPMACMatchesGoIPMI(t *testing.T) {
	for _, tc := range []struct {
		suite int
		alg   types.AuthAlg
	}{{3, types.AuthAlg_HMAC_SHA1}, {17, types.AuthAlg_HMAC_SHA256}} {
		x := &rakp2{consoleID: 0x11223344, bmcID: 0x55667788, role: 0x14, user: "ADMIN"}
		copy(x.consoleRand[:], "console-random16")
		copy(x.bmcRand[:], "bmc-random-16byt")
		copy(x.guid[:], "guid-guid-guid-g")
		mac, err := crypto.RAKP2AuthCode(tc.alg, x.consoleID, x.bmcID, x.consoleRand[:], x.bmcRand[:], x.guid[:], x.role, x.user, crypto.PadPassword20([]byte("ADMIN")))
		if err != nil {
			t.Fatal(err)
		}
		x.mac = mac
		if !x.matches(tc.suite, "ADMIN") {
			t.Errorf("suite %d: the right password does not match", tc.suite)
		}
		for _, wrong := range []string{"", "admin", "ADMIN ", strings.Repeat("x", 20)} {
			if x.matches(tc.suite, wrong) {
				t.Errorf("suite %d: %q matches", tc.suite, wrong)
			}
		}
		x.forget()
		if x.matches(tc.suite, "ADMIN") || x.mac != nil {
			t.Error("forget left the MAC usable")
		}
	}
}

func TestPrintable(t *testing.T) {
	if got := printable("ok\x1b[31mred\u202e"); got != "ok?[31mred?" {
		t.Errorf("printable = %q", got)
	}
}

// TestExchangeStopsWhenCanceled: a probe waiting for a BMC that never
// answers returns as soon as its context is canceled, not at its timeout.
func TestExchangeStopsWhenCanceled(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := dialWire(ctx, pc.LocalAddr().String(), time.Millisecond, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer w.conn.Close()
	done := make(chan error, 1)
	go func() {
		_, err := w.exchange(ctx, []byte{0}, func([]byte) bool { return true })
		done <- err
	}()
	// The probe is waiting once the silent BMC has received it.
	buf := make([]byte, 16)
	if _, _, err := pc.ReadFrom(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the probe did not stop when canceled")
	}
}
