package ipmi

import "encoding/binary"

// RMCP and IPMI session framing (IPMI 2.0 section 13.6, 13.8).
const (
	rmcpVersion   = 0x06
	rmcpClassIPMI = 0x07
	rmcpHeaderLen = 4

	authTypeRMCPPlus = 0x06
	v2HeaderLen      = rmcpHeaderLen + 12 // auth type .. payload length

	payloadIPMI        = 0x00
	payloadSOL         = 0x01
	payloadOEM         = 0x02
	payloadOpenReq     = 0x10
	payloadOpenResp    = 0x11
	payloadRAKP1       = 0x12
	payloadRAKP2       = 0x13
	payloadRAKP3       = 0x14
	payloadRAKP4       = 0x15
	flagEncrypted      = 0x80
	flagAuthenticated  = 0x40
	payloadTypeMask    = 0x3f
	nextHeaderIPMI     = 0x07
	netFnApp           = 0x06
	cmdGetChanAuthCaps = 0x38
)

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

// isIPMIClass reports whether p starts with an RMCP header of class IPMI.
func isIPMIClass(p []byte) bool {
	return len(p) > rmcpHeaderLen && p[0] == rmcpVersion && p[3]&0x1f == rmcpClassIPMI
}

// isV2 reports whether p is an IPMI-class RMCP packet with an RMCP+ header.
func isV2(p []byte) bool {
	return isIPMIClass(p) && p[4] == authTypeRMCPPlus
}

// parseV2 parses an RMCP+ packet. OEM explicit payloads are not supported.
func parseV2(p []byte) (v2Packet, bool) {
	if !isV2(p) || len(p) < v2HeaderLen {
		return v2Packet{}, false
	}
	pt := p[5]
	h := v2Packet{
		payloadType:   pt & payloadTypeMask,
		encrypted:     pt&flagEncrypted != 0,
		authenticated: pt&flagAuthenticated != 0,
		sessionID:     binary.LittleEndian.Uint32(p[6:10]),
		seq:           binary.LittleEndian.Uint32(p[10:14]),
	}
	if h.payloadType == payloadOEM {
		return v2Packet{}, false
	}
	n := int(binary.LittleEndian.Uint16(p[14:16]))
	if len(p) < v2HeaderLen+n {
		return v2Packet{}, false
	}
	h.payload = p[v2HeaderLen : v2HeaderLen+n]
	h.trailer = p[v2HeaderLen+n:]
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
	if !isIPMIClass(p) || p[4] == authTypeRMCPPlus || len(p) < 14 {
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
	return len(msg) >= 7 && msg[1]>>2 == netFnApp && msg[5] == cmdGetChanAuthCaps
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
