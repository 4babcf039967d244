// Package rmcp holds the RMCP and IPMI-over-LAN session framing that the
// IPMI broker (proxy/ipmi) and the posture scanner (proxy/scan) must agree
// on: the RMCP header, the session header's authentication type, the RMCP+
// payload types and flags (IPMI 2.0 specification, sections 13.1 to 13.8).
// It is a leaf: constants and two pure helpers, no I/O.
package rmcp

// The RMCP header (IPMI 2.0 section 13.1.3, ASF 2.0).
const (
	Version   = 0x06 // RMCP version 1.0
	SeqNoAck  = 0xff // sequence number: no RMCP ACK wanted
	ClassIPMI = 0x07 // message class IPMI
	HeaderLen = 4
)

// The session header (IPMI 2.0 sections 13.6 and 13.8).
const (
	AuthTypeNone     = 0x00 // IPMI 1.5, no authentication
	AuthTypeRMCPPlus = 0x06 // an RMCP+ (IPMI 2.0) session header follows

	// V2HeaderLen is an RMCP+ packet's header up to its payload: the RMCP
	// header, auth type, payload type, session ID, sequence number and
	// payload length.
	V2HeaderLen = HeaderLen + 12
)

// RMCP+ payload types (IPMI 2.0 section 13.27.3) and the flags sharing
// their byte.
const (
	PayloadIPMI     = 0x00
	PayloadSOL      = 0x01
	PayloadOEM      = 0x02
	PayloadOpenReq  = 0x10 // RMCP+ Open Session Request
	PayloadOpenResp = 0x11
	PayloadRAKP1    = 0x12
	PayloadRAKP2    = 0x13
	PayloadRAKP3    = 0x14
	PayloadRAKP4    = 0x15

	FlagEncrypted     = 0x80
	FlagAuthenticated = 0x40
	PayloadTypeMask   = 0x3f

	// NextHeaderIPMI is the session trailer's "next header" byte.
	NextHeaderIPMI = 0x07
)

// IPMI message addressing and the one network function both users send.
const (
	BMCAddr     = 0x20 // the BMC's responder address
	ConsoleAddr = 0x81 // remote console software ID 0x40, as a requester address
	NetFnApp    = 0x06 // application requests
)

// Header is the four-byte RMCP header of an IPMI-class message that asks for
// no RMCP acknowledgement.
func Header() []byte { return []byte{Version, 0x00, SeqNoAck, ClassIPMI} }

// IsIPMIClass reports whether p starts with an RMCP header of class IPMI
// and carries something after it.
func IsIPMIClass(p []byte) bool {
	return len(p) > HeaderLen && p[0] == Version && p[3]&0x1f == ClassIPMI
}
