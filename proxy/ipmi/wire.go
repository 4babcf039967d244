package ipmi

import (
	"encoding/binary"

	"github.com/bmcgate/bmcgate/internal/rmcp"
)

// IPMI commands the guard looks at (IPMI 2.0 section 22.13); the framing
// constants are package rmcp's, shared with the posture scanner.
const cmdGetChanAuthCaps = 0x38

// v2Packet is a parsed RMCP+ (IPMI 2.0) session packet.
type v2Packet struct {
	payloadType   uint8
	encrypted     bool
	authenticated bool
	sessionID     uint32
	seq           uint32
	payload       []byte
	trailer       []byte // integrity pad, pad length, next header, AuthCode
}

// isV2 reports whether p is an IPMI-class RMCP packet with an RMCP+ header.
func isV2(p []byte) bool {
	return rmcp.IsIPMIClass(p) && p[4] == rmcp.AuthTypeRMCPPlus
}

// parseV2 parses an RMCP+ packet. OEM explicit payloads are not supported.
func parseV2(p []byte) (v2Packet, bool) {
	if !isV2(p) || len(p) < rmcp.V2HeaderLen {
		return v2Packet{}, false
	}
	pt := p[5]
	h := v2Packet{
		payloadType:   pt & rmcp.PayloadTypeMask,
		encrypted:     pt&rmcp.FlagEncrypted != 0,
		authenticated: pt&rmcp.FlagAuthenticated != 0,
		sessionID:     binary.LittleEndian.Uint32(p[6:10]),
		seq:           binary.LittleEndian.Uint32(p[10:14]),
	}
	if h.payloadType == rmcp.PayloadOEM {
		return v2Packet{}, false
	}
	n := int(binary.LittleEndian.Uint16(p[14:16]))
	if len(p) < rmcp.V2HeaderLen+n {
		return v2Packet{}, false
	}
	h.payload = p[rmcp.V2HeaderLen : rmcp.V2HeaderLen+n]
	h.trailer = p[rmcp.V2HeaderLen+n:]
	return h, true
}

// v15Packet is a parsed IPMI 1.5 session packet.
type v15Packet struct {
	authType  uint8
	sessionID uint32
	msg       []byte
}

// parseV15 parses an IPMI 1.5 session packet.
func parseV15(p []byte) (v15Packet, bool) {
	if !rmcp.IsIPMIClass(p) || p[4] == rmcp.AuthTypeRMCPPlus || len(p) < 14 {
		return v15Packet{}, false
	}
	h := v15Packet{authType: p[4], sessionID: binary.LittleEndian.Uint32(p[9:13])}
	off := 13
	if h.authType != 0 {
		off += 16
	}
	if len(p) < off+1 {
		return v15Packet{}, false
	}
	n := int(p[off])
	off++
	if len(p) < off+n {
		return v15Packet{}, false
	}
	h.msg = p[off : off+n]
	return h, true
}

// isGetChannelAuthCaps reports whether an IPMI request message is Get
// Channel Authentication Capabilities (App 0x38).
func isGetChannelAuthCaps(msg []byte) bool {
	return len(msg) >= 7 && msg[1]>>2 == rmcp.NetFnApp && msg[5] == cmdGetChanAuthCaps
}

// parseAlgPayloads reads the three 8-byte algorithm payloads at b[0:24].
func parseAlgPayloads(b []byte) (algorithms, bool) {
	if len(b) < 24 {
		return algorithms{}, false
	}
	for i, typ := range []byte{0x00, 0x01, 0x02} {
		rec := b[i*8 : i*8+8]
		if rec[0] != typ || rec[3] != 0x08 {
			return algorithms{}, false
		}
	}
	return algorithms{auth: b[4] & 0x3f, integ: b[12] & 0x3f, conf: b[20] & 0x3f}, true
}
