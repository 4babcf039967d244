package ipmi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/rmcp"
	"github.com/bougou/go-ipmi/pkg/crypto"
	"github.com/bougou/go-ipmi/pkg/types"
)

// bmcRead returns the next datagram the rig's BMC side receives.
func (r *guardRig) bmcRead() []byte {
	r.t.Helper()
	buf := make([]byte, 2048)
	_ = r.bmc.SetReadDeadline(time.Now().Add(time.Second))
	n, _, err := r.bmc.ReadFrom(buf)
	if err != nil {
		r.t.Fatalf("BMC side received nothing: %v", err)
	}
	return buf[:n]
}

// bmcOpen checks a packet the guard sent as the BMC would, with go-ipmi's
// own crypto functions, and returns its payload type, sequence number and
// plaintext.
func (r *guardRig) bmcOpen(pkt []byte) (ptype uint8, seq uint32, plain []byte) {
	r.t.Helper()
	h, ok := parseV2(pkt)
	if !ok || !h.encrypted || !h.authenticated || h.sessionID != testBMCID {
		r.t.Fatalf("not an authenticated, encrypted packet of the session: %x", pkt)
	}
	n := authCodeLen(r.keys.a.integ)
	mac, err := crypto.SessionIntegrityAuthCode(types.IntegrityAlg(r.keys.a.integ), pkt[rmcp.HeaderLen:len(pkt)-n], r.keys.k1, "")
	if err != nil || !bytes.Equal(mac, pkt[len(pkt)-n:]) {
		r.t.Fatalf("AuthCode does not verify (%v)", err)
	}
	t := h.trailer
	pad := len(t) - n - 2
	if pad < 0 || int(t[pad]) != pad || t[pad+1] != rmcp.NextHeaderIPMI || (12+len(h.payload)+pad+2)%4 != 0 {
		r.t.Fatalf("bad integrity trailer %x", t)
	}
	for _, b := range t[:pad] {
		if b != 0xff {
			r.t.Fatalf("integrity pad byte %#x", b)
		}
	}
	dec, err := crypto.DecryptAES(h.payload[16:], r.keys.k2[:16], h.payload[:16])
	if err != nil {
		r.t.Fatal(err)
	}
	cp := int(dec[len(dec)-1])
	if cp > 15 {
		r.t.Fatalf("confidentiality pad length %d", cp)
	}
	for i, b := range dec[len(dec)-1-cp : len(dec)-1] {
		if int(b) != i+1 {
			r.t.Fatalf("confidentiality pad %x", dec)
		}
	}
	return h.payloadType, h.seq, dec[:len(dec)-1-cp]
}

func activeSOLRig(t *testing.T, suite int) (*guardRig, *SOLConn) {
	r := newGuardRig(t, suite)
	r.activate()
	r.g.solOwn.Store(true)
	return r, &SOLConn{g: r.g}
}

// TestSOLConnSend: the guard's own SOL packets are what the specification
// asks for, as an independent implementation checks them, for every
// padding length; IVs are fresh and the session sequence numbers of the
// library's packets and the guard's own form one increasing count.
func TestSOLConnSend(t *testing.T) {
	for _, suite := range []int{3, 17} {
		t.Run(fmt.Sprint("suite ", suite), func(t *testing.T) {
			r, c := activeSOLRig(t, suite)
			ivs := map[string]bool{}
			var last uint32
			for size := range 40 {
				plain := bytes.Repeat([]byte{byte(size)}, size)
				if size%3 == 0 {
					lib := r.keys.sessionPacket(rmcp.PayloadIPMI, testBMCID, 5, []byte("get device id"), true, true)
					if _, err := r.g.Write(lib); err != nil {
						t.Fatal(err)
					}
					pt, seq, got := r.bmcOpen(r.bmcRead())
					if pt != rmcp.PayloadIPMI || string(got) != "get device id" || seq != last+1 {
						t.Fatalf("library packet: type %d seq %d (last %d) %q", pt, seq, last, got)
					}
					last = seq
				}
				if err := c.Send(plain); err != nil {
					t.Fatal(err)
				}
				pkt := r.bmcRead()
				pt, seq, got := r.bmcOpen(pkt)
				if pt != rmcp.PayloadSOL || !bytes.Equal(got, plain) || seq != last+1 {
					t.Fatalf("size %d: type %d seq %d (last %d) plaintext %x", size, pt, seq, last, got)
				}
				last = seq
				h, _ := parseV2(pkt)
				iv := string(h.payload[:16])
				if ivs[iv] {
					t.Fatal("an IV repeated")
				}
				ivs[iv] = true
			}
		})
	}
}

// TestSOLConnReceive: SOL packets reach the SOLConn and everything else
// the library, whichever of them is reading the socket at the time; junk
// is dropped.
func TestSOLConnReceive(t *testing.T) {
	r, c := activeSOLRig(t, 17)
	seq := uint32(100)
	pkt := func(ptype byte, plain string) []byte {
		seq++
		return r.keys.sessionPacket(ptype, testConsoleID, seq, []byte(plain), true, true)
	}
	receive := func(d time.Duration) (string, error) {
		p, err := c.Receive(time.Now().Add(d), nil)
		return string(p), err
	}
	libRead := func(d time.Duration) chan string {
		ch := make(chan string, 1)
		go func() {
			_ = r.g.SetReadDeadline(time.Now().Add(d))
			buf := make([]byte, readBufferSize)
			n, err := r.g.Read(buf)
			if err != nil {
				ch <- "error: " + err.Error()
				return
			}
			ch <- string(buf[:n])
		}()
		return ch
	}

	// Only the SOL side reads: its packet, and the library's kept for it.
	ipmiPkt := pkt(rmcp.PayloadIPMI, "chassis status answer")
	r.send(ipmiPkt)
	r.send(pkt(rmcp.PayloadSOL, "\x01\x00\x00\x00boot"))
	if got, err := receive(time.Second); err != nil || got != "\x01\x00\x00\x00boot" {
		t.Fatalf("SOL side: %q, %v", got, err)
	}
	if got := <-libRead(time.Second); got != string(ipmiPkt) {
		t.Fatalf("library side: %q", got)
	}

	// Only the library reads: the SOL packet waits for the SOL side.
	ch := libRead(time.Second)
	r.send(pkt(rmcp.PayloadSOL, "\x02\x00\x00\x00login: "))
	ipmiPkt = pkt(rmcp.PayloadIPMI, "power on answer")
	r.send(ipmiPkt)
	if got := <-ch; got != string(ipmiPkt) {
		t.Fatalf("library side: %q", got)
	}
	if got, err := receive(time.Second); err != nil || got != "\x02\x00\x00\x00login: " {
		t.Fatalf("SOL side: %q, %v", got, err)
	}

	// Both read at once.
	for range 20 {
		ch := libRead(2 * time.Second)
		ipmiPkt := pkt(rmcp.PayloadIPMI, "answer")
		r.send(pkt(rmcp.PayloadSOL, "\x03\x00\x00\x00x"))
		r.send(ipmiPkt)
		if got, err := receive(2 * time.Second); err != nil || got != "\x03\x00\x00\x00x" {
			t.Fatalf("SOL side: %q, %v", got, err)
		}
		if got := <-ch; got != string(ipmiPkt) {
			t.Fatalf("library side: %q", got)
		}
	}

	// Junk never reaches the SOL side; a timeout is a deadline error.
	tampered := pkt(rmcp.PayloadSOL, "\x04\x00\x00\x00rm -rf /")
	tampered[len(tampered)-1] ^= 1
	replay := pkt(rmcp.PayloadSOL, "\x05\x00\x00\x00once")
	r.send(replay)
	if got, err := receive(time.Second); err != nil || got != "\x05\x00\x00\x00once" {
		t.Fatalf("SOL side: %q, %v", got, err)
	}
	for _, j := range [][]byte{tampered, replay, r.keys.sessionPacket(rmcp.PayloadSOL, testConsoleID, 900, []byte("plain"), false, false)} {
		r.send(j)
	}
	if got, err := receive(200 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("junk: %q, %v", got, err)
	}

	// A closed stop channel ends a wait.
	stop := make(chan struct{})
	close(stop)
	<-r.g.turn // held, as by a reader of the library's
	_, err := c.Receive(time.Now().Add(time.Second), stop)
	r.g.turn <- struct{}{}
	if !errors.Is(err, errStopped) {
		t.Fatalf("stopped: %v", err)
	}
}

// TestSOLConnOpenRejectsBadPadding: a signed packet whose plaintext has a
// malformed confidentiality trailer is dropped.
func TestSOLConnOpenRejectsBadPadding(t *testing.T) {
	r, c := activeSOLRig(t, 3)
	for i, tc := range []struct {
		name string
		tail []byte // the plaintext's last bytes
	}{
		{"pad length beyond 15", []byte{0x20}},
		{"pad bytes not 1, 2, 3", []byte{1, 2, 4, 3}},
	} {
		plain := make([]byte, 32)
		copy(plain[32-len(tc.tail):], tc.tail)
		iv := bytes.Repeat([]byte{7}, 16)
		enc, err := crypto.EncryptAES(plain, r.keys.k2[:16], iv)
		if err != nil {
			t.Fatal(err)
		}
		payload := append(iv, enc...)
		p := v2Datagram(rmcp.PayloadSOL|rmcp.FlagEncrypted|rmcp.FlagAuthenticated, testConsoleID, uint32(300+i), payload)
		pad := types.IntegrityPadLen(12, len(payload))
		for range pad {
			p = append(p, 0xff)
		}
		p = append(p, byte(pad), rmcp.NextHeaderIPMI)
		mac, _ := crypto.SessionIntegrityAuthCode(types.IntegrityAlg(r.keys.a.integ), p[rmcp.HeaderLen:], r.keys.k1, "")
		r.send(append(p, mac...))
		if got, err := c.Receive(time.Now().Add(200*time.Millisecond), nil); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: delivered %q, %v", tc.name, got, err)
		}
	}
}
