package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bougou/go-ipmi/pkg/types"
)

// session runs paced raw commands on one verified session.
type session struct {
	s        *ipmi.Session
	interval time.Duration
	last     time.Time
	channel  byte // the LAN channel the session arrived on
}

// cmd runs one command and returns its response data (without the
// completion code). A non-zero completion code is an error.
func (s *session) cmd(ctx context.Context, netFn types.NetFn, cmd uint8, data []byte, name string) ([]byte, error) {
	if !s.last.IsZero() && s.interval > 0 {
		if wait := time.Until(s.last.Add(s.interval)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
	}
	s.last = time.Now()
	res, err := s.s.Client().RawCommand(ctx, netFn, cmd, data, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res.Response, nil
}

// ccParamNotSupported is the completion code "parameter not supported".
const ccParamNotSupported = 0x80

// completionCode extracts a BMC completion code from err.
func completionCode(err error) (byte, bool) {
	var re *types.ResponseError
	if errors.As(err, &re) {
		return byte(re.CompletionCode()), true
	}
	return 0, false
}

// unsupported reports whether err is a BMC saying it does not implement a
// command or parameter (invalid command, parameter not supported).
func unsupported(err error) bool {
	cc, ok := completionCode(err)
	return ok && (cc == 0xc1 || cc == ccParamNotSupported)
}

// channelNumber learns the session's LAN channel (Get Channel Info for
// "this channel"); 1 when the BMC does not say.
func (s *session) channelNumber(ctx context.Context) {
	s.channel = 1
	if d, err := s.cmd(ctx, types.NetFnAppRequest, 0x42, []byte{0x0e}, "Get Channel Info"); err == nil && len(d) > 0 && d[0]&0x0f != 0 && d[0]&0x0f < 0x0e {
		s.channel = d[0] & 0x0f
	}
}

// Suite is one RMCP+ cipher suite the BMC offers.
type Suite struct {
	ID              int    `json:"id"`
	Auth            string `json:"auth"`
	Integrity       string `json:"integrity"`
	Confidentiality string `json:"confidentiality"`
}

// Weaknesses lists what is wrong with the suite, if anything.
func (s Suite) Weaknesses() []string {
	var w []string
	if s.Auth == "none" {
		w = append(w, "no authentication")
	}
	if s.Integrity == "none" {
		w = append(w, "no integrity")
	}
	switch s.Confidentiality {
	case "none":
		w = append(w, "no confidentiality")
	case "xrc4-128", "xrc4-40":
		w = append(w, "RC4")
	}
	return w
}

var (
	authNames  = map[byte]string{0: "none", 1: "hmac-sha1", 2: "hmac-md5", 3: "hmac-sha256"}
	integNames = map[byte]string{0: "none", 1: "hmac-sha1-96", 2: "hmac-md5-128", 3: "md5-128", 4: "hmac-sha256-128"}
	cryptNames = map[byte]string{0: "none", 1: "aes-cbc-128", 2: "xrc4-128", 3: "xrc4-40"}
)

func algName(m map[byte]string, a byte) string {
	if n, ok := m[a]; ok {
		return n
	}
	return fmt.Sprintf("oem-%#02x", a)
}

// cipherSuites reads the channel's cipher suite list (Get Channel Cipher
// Suites, listed by suite).
func (s *session) cipherSuites(ctx context.Context) ([]Suite, error) {
	var recs []byte
	for idx := byte(0); idx < 0x40; idx++ {
		d, err := s.cmd(ctx, types.NetFnAppRequest, 0x54, []byte{s.channel, 0x00, 0x80 | idx}, "Get Channel Cipher Suites")
		if err != nil {
			return nil, err
		}
		if len(d) < 1 {
			break
		}
		recs = append(recs, d[1:]...)
		if len(d)-1 < 16 {
			break
		}
	}
	return parseSuites(recs), nil
}

// parseSuites decodes cipher suite records (IPMI 2.0 specification, table
// 22-19).
func parseSuites(b []byte) []Suite {
	var out []Suite
	for i := 0; i < len(b); {
		start := b[i]
		var cur Suite
		switch start {
		case 0xc0:
			if i+1 >= len(b) {
				return out
			}
			cur.ID = int(b[i+1])
			i += 2
		case 0xc1:
			if i+4 >= len(b) {
				return out
			}
			cur.ID = int(b[i+1])
			i += 5
		default:
			i++
			continue
		}
		cur.Auth, cur.Integrity, cur.Confidentiality = "none", "none", "none"
		for i < len(b) && b[i]&0xc0 != 0xc0 {
			a := b[i] & 0x3f
			switch b[i] >> 6 {
			case 0:
				cur.Auth = algName(authNames, a)
			case 1:
				cur.Integrity = algName(integNames, a)
			case 2:
				cur.Confidentiality = algName(cryptNames, a)
			}
			i++
		}
		out = append(out, cur)
	}
	return out
}

// User is one enabled account on the BMC's LAN channel.
type User struct {
	ID        int    `json:"id"`
	Name      string `json:"name"`
	Privilege string `json:"privilege"`
	IPMI      bool   `json:"ipmi_messaging"`
}

// users lists the enabled users of the channel (Get User Access, Get User
// Name).
func (s *session) users(ctx context.Context) ([]User, error) {
	max := 1
	var out []User
	for id := 1; id <= max && id < 64; id++ {
		d, err := s.cmd(ctx, types.NetFnAppRequest, 0x44, []byte{s.channel, byte(id)}, "Get User Access")
		if err != nil {
			if id == 1 {
				return nil, err
			}
			continue
		}
		if len(d) < 4 {
			continue
		}
		max = int(d[0] & 0x3f)
		status := d[1] >> 6
		priv := d[3] & 0x0f
		ipmiOn := d[3]&0x10 != 0
		enabled := status == 0b01 || (status == 0 && ipmiOn)
		if !enabled || priv == 0x0f || priv == 0 {
			continue
		}
		u := User{ID: id, Privilege: privName(priv), IPMI: ipmiOn}
		if id != 1 {
			n, err := s.cmd(ctx, types.NetFnAppRequest, 0x46, []byte{byte(id)}, "Get User Name")
			if err != nil {
				continue // an empty slot
			}
			u.Name = string(bytes.TrimRight(n, "\x00"))
			if u.Name == "" {
				continue
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// solEnabled reads SOL configuration parameter 1 (SOL Enable).
func (s *session) solEnabled(ctx context.Context) (bool, error) {
	d, err := s.cmd(ctx, types.NetFnTransportRequest, 0x22, []byte{s.channel, 0x01, 0, 0}, "Get SOL Configuration Parameters")
	if err != nil {
		return false, err
	}
	if len(d) < 2 {
		return false, fmt.Errorf("short SOL parameter answer")
	}
	return d[1]&0x01 != 0, nil
}

// lanParam reads one LAN configuration parameter (without the revision
// byte).
func (s *session) lanParam(ctx context.Context, param, set byte) ([]byte, error) {
	d, err := s.cmd(ctx, types.NetFnTransportRequest, 0x02, []byte{s.channel, param, set, 0}, "Get LAN Configuration Parameters")
	if err != nil {
		return nil, err
	}
	if len(d) < 1 {
		return nil, fmt.Errorf("short LAN parameter answer")
	}
	return d[1:], nil
}

// alertDestinations lists the IP addresses of configured LAN alert
// destinations (parameters 17 and 19).
func (s *session) alertDestinations(ctx context.Context) ([]string, error) {
	d, err := s.lanParam(ctx, 17, 0)
	if cc, ok := completionCode(err); ok && cc == ccParamNotSupported {
		return nil, nil // no LAN alerting on this BMC
	}
	if err != nil {
		return nil, err
	}
	if len(d) < 1 {
		return nil, nil
	}
	var out []string
	for set := byte(1); set <= d[0]&0x0f; set++ {
		a, err := s.lanParam(ctx, 19, set)
		if err != nil || len(a) < 7 {
			continue
		}
		ip := net.IP(a[3:7])
		if !ip.IsUnspecified() {
			out = append(out, ip.String())
		}
	}
	return out, nil
}
