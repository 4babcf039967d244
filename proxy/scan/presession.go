package scan

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/bmcgate/bmcgate/internal/rmcp"
)

// Privilege levels as encoded on the wire.
const (
	privCallback = 1
	privUser     = 2
	privOperator = 3
	privAdmin    = 4
)

// privName names a wire privilege level.
func privName(p byte) string {
	switch p & 0x0f {
	case privCallback:
		return "callback"
	case privUser:
		return "user"
	case privOperator:
		return "operator"
	case privAdmin:
		return "administrator"
	case 5:
		return "oem"
	case 0x0f:
		return "no access"
	}
	return fmt.Sprintf("reserved(%d)", p&0x0f)
}

// AuthCaps is the answer to Get Channel Authentication Capabilities for one
// requested privilege level.
type AuthCaps struct {
	Privilege string   `json:"privilege"`
	V15Types  []string `json:"ipmi15_auth_types"` // "none", "md2", "md5", "password", "oem"
	V15       bool     `json:"ipmi15"`
	V20       bool     `json:"ipmi20"`
	Anonymous bool     `json:"anonymous_login"` // null user name and empty password
	NullUsers bool     `json:"null_user_names"` // null user names with a password
	PerMsgOff bool     `json:"per_message_auth_disabled"`
	UserOff   bool     `json:"user_level_auth_disabled"`
	KGSet     bool     `json:"kg_set,omitempty"` // a non-zero BMC key (Kg) is configured
}

// v15TypeBits are the IPMI 1.5 authentication type bits of the capability
// byte (IPMI 2.0 specification, table 22-15).
var v15TypeBits = []struct {
	bit  byte
	name string
}{{0x01, "none"}, {0x02, "md2"}, {0x04, "md5"}, {0x10, "password"}, {0x20, "oem"}}

// authCaps asks for the channel authentication capabilities at priv,
// sessionless, first with the IPMI 2.0 extension bit and then without.
func authCaps(ctx context.Context, w *wire, priv byte) (AuthCaps, error) {
	var last error
	for _, ch := range []byte{0x8e, 0x0e} {
		pkt := v15Request(rmcp.NetFnApp, 0x38, 1, []byte{ch, priv})
		var cc byte
		var data []byte
		_, err := w.exchange(ctx, pkt, func(b []byte) bool {
			var ok bool
			cc, data, ok = v15Response(b, 0x38)
			return ok
		})
		if err != nil {
			return AuthCaps{}, err
		}
		if cc != 0 || len(data) < 8 {
			last = fmt.Errorf("completion code %#02x", cc)
			continue
		}
		c := AuthCaps{Privilege: privName(priv)}
		for _, t := range v15TypeBits {
			if data[1]&t.bit != 0 {
				c.V15Types = append(c.V15Types, t.name)
			}
		}
		c.KGSet = data[2]&0x20 != 0
		c.PerMsgOff = data[2]&0x10 != 0
		c.UserOff = data[2]&0x08 != 0
		c.NullUsers = data[2]&0x02 != 0
		c.Anonymous = data[2]&0x01 != 0
		c.V20 = data[1]&0x80 != 0 && data[3]&0x02 != 0
		c.V15 = len(c.V15Types) > 0 && (data[1]&0x80 == 0 || data[3]&0x01 != 0)
		if !c.V15 {
			c.V15Types = nil
		}
		return c, nil
	}
	return AuthCaps{}, last
}

// suiteAlgs are the algorithm numbers of the cipher suites the probes use.
var suiteAlgs = map[int][3]byte{
	0:  {0, 0, 0},
	3:  {1, 1, 1},
	17: {3, 4, 1},
}

// openResult is the BMC's answer to an RMCP+ Open Session Request.
type openResult struct {
	status    byte
	maxPriv   byte
	consoleID uint32
	bmcID     uint32
	algs      [3]byte
}

// openSession sends an Open Session Request for suite and returns the
// BMC's answer. A session the BMC accepts stays half-open until it is
// aborted with abortRAKP or times out on the BMC.
func openSession(ctx context.Context, w *wire, suite int, priv byte) (openResult, error) {
	algs, ok := suiteAlgs[suite]
	if !ok {
		return openResult{}, fmt.Errorf("cipher suite %d cannot be probed", suite)
	}
	var idb [4]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return openResult{}, fmt.Errorf("random session ID: %w", err)
	}
	consoleID := binary.LittleEndian.Uint32(idb[:]) | 1
	tag := idb[0]
	p := make([]byte, 32)
	p[0] = tag
	p[1] = priv
	binary.LittleEndian.PutUint32(p[4:], consoleID)
	for i, a := range algs {
		rec := p[8+8*i : 16+8*i]
		rec[0] = byte(i)
		rec[3] = 8
		rec[4] = a
	}
	var res openResult
	_, err := w.exchange(ctx, rmcppPacket(rmcp.PayloadOpenReq, p), func(b []byte) bool {
		pl, ok := rmcppPayload(b, rmcp.PayloadOpenResp)
		if !ok || len(pl) < 8 || pl[0] != tag || binary.LittleEndian.Uint32(pl[4:]) != consoleID {
			return false
		}
		res.status, res.maxPriv, res.consoleID = pl[1], pl[2], consoleID
		if res.status == 0 {
			w.hold(1)
		}
		if res.status == 0 && len(pl) >= 36 {
			res.bmcID = binary.LittleEndian.Uint32(pl[8:])
			res.algs = [3]byte{pl[16] & 0x3f, pl[24] & 0x3f, pl[32] & 0x3f}
		}
		return true
	})
	return res, err
}

// rakp2 is what a RAKP message 2 carries, kept only as long as a
// candidate check needs it. It holds the BMC's HMAC: never log or return it.
type rakp2 struct {
	status      byte
	consoleID   uint32
	bmcID       uint32
	consoleRand [16]byte
	bmcRand     [16]byte
	guid        [16]byte
	role        byte
	user        string
	mac         []byte
}

// rakp1 sends RAKP message 1 for user on a half-open session and returns
// the BMC's RAKP message 2.
func rakp1(ctx context.Context, w *wire, o openResult, user string, priv byte, macLen int) (*rakp2, error) {
	r := &rakp2{consoleID: o.consoleID, bmcID: o.bmcID, role: priv | 0x10, user: user}
	if _, err := rand.Read(r.consoleRand[:]); err != nil {
		return nil, fmt.Errorf("random number: %w", err)
	}
	tag := r.consoleRand[0]
	p := make([]byte, 28+len(user))
	p[0] = tag
	binary.LittleEndian.PutUint32(p[4:], o.bmcID)
	copy(p[8:24], r.consoleRand[:])
	p[24] = r.role
	p[27] = byte(len(user))
	copy(p[28:], user)
	_, err := w.exchange(ctx, rmcppPacket(rmcp.PayloadRAKP1, p), func(b []byte) bool {
		pl, ok := rmcppPayload(b, rmcp.PayloadRAKP2)
		if !ok || len(pl) < 8 || pl[0] != tag || binary.LittleEndian.Uint32(pl[4:]) != o.consoleID {
			return false
		}
		r.status = pl[1]
		if r.status == 0 && len(pl) >= 40+macLen {
			copy(r.bmcRand[:], pl[8:24])
			copy(r.guid[:], pl[24:40])
			r.mac = append([]byte(nil), pl[40:40+macLen]...)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// abortRAKP ends a half-open session with a RAKP message 3 carrying an
// error status: the BMC discards the session, and no authentication
// attempt is made, so nothing counts towards a lockout. It is also how the
// never-used suite 0 session is given up.
func abortRAKP(ctx context.Context, w *wire, bmcID uint32) {
	p := make([]byte, 8)
	p[1] = 0x01 // insufficient resources: the console gives up
	binary.LittleEndian.PutUint32(p[4:], bmcID)
	_ = w.send(ctx, rmcppPacket(rmcp.PayloadRAKP3, p))
	w.hold(-1)
}
