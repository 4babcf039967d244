package ipmi

import (
	"encoding/binary"

	"github.com/bmcgate/bmcgate/internal/rmcp"
	"github.com/bougou/go-ipmi/pkg/crypto"
	"github.com/bougou/go-ipmi/pkg/types"
)

// Builders for crafted RMCP+ datagrams used by the guard tests and the
// man-in-the-middle tests.

// v2Datagram frames payload in an RMCP + RMCP+ session header without
// trailer.
func v2Datagram(ptype byte, sid, seq uint32, payload []byte) []byte {
	p := []byte{rmcp.Version, 0x00, 0xff, rmcp.ClassIPMI, rmcp.AuthTypeRMCPPlus, ptype}
	p = binary.LittleEndian.AppendUint32(p, sid)
	p = binary.LittleEndian.AppendUint32(p, seq)
	p = binary.LittleEndian.AppendUint16(p, uint16(len(payload)))
	return append(p, payload...)
}

func algRecords(a algorithms) []byte {
	return []byte{
		0x00, 0, 0, 0x08, a.auth, 0, 0, 0,
		0x01, 0, 0, 0x08, a.integ, 0, 0, 0,
		0x02, 0, 0, 0x08, a.conf, 0, 0, 0,
	}
}

func openRequest(consoleID uint32, a algorithms) []byte {
	p := []byte{0x00, 0x00, 0x00, 0x00}
	p = binary.LittleEndian.AppendUint32(p, consoleID)
	return v2Datagram(rmcp.PayloadOpenReq, 0, 0, append(p, algRecords(a)...))
}

func openResponse(status byte, consoleID, bmcID uint32, a algorithms) []byte {
	p := []byte{0x00, status, 0x03, 0x00}
	p = binary.LittleEndian.AppendUint32(p, consoleID)
	p = binary.LittleEndian.AppendUint32(p, bmcID)
	return v2Datagram(rmcp.PayloadOpenResp, 0, 0, append(p, algRecords(a)...))
}

func rakp1(bmcID uint32, rnd [16]byte, role byte, user string) []byte {
	p := []byte{0x00, 0, 0, 0}
	p = binary.LittleEndian.AppendUint32(p, bmcID)
	p = append(p, rnd[:]...)
	p = append(p, role, 0, 0, byte(len(user)))
	p = append(p, user...)
	return v2Datagram(rmcp.PayloadRAKP1, 0, 0, p)
}

func rakp2(status byte, consoleID uint32, rnd, guid [16]byte, code []byte) []byte {
	p := []byte{0x00, status, 0, 0}
	p = binary.LittleEndian.AppendUint32(p, consoleID)
	p = append(p, rnd[:]...)
	p = append(p, guid[:]...)
	return v2Datagram(rmcp.PayloadRAKP2, 0, 0, append(p, code...))
}

func rakp3(bmcID uint32, code []byte) []byte {
	p := []byte{0x00, 0x00, 0, 0}
	p = binary.LittleEndian.AppendUint32(p, bmcID)
	return v2Datagram(rmcp.PayloadRAKP3, 0, 0, append(p, code...))
}

func rakp4(consoleID uint32, icv []byte) []byte {
	p := []byte{0x00, 0x00, 0, 0}
	p = binary.LittleEndian.AppendUint32(p, consoleID)
	return v2Datagram(rmcp.PayloadRAKP4, 0, 0, append(p, icv...))
}

// sessionKeys are the keys of one crafted session.
type sessionKeys struct {
	a      algorithms
	k1, k2 []byte
}

// sessionPacket builds an in-session packet: plain is encrypted with K2 if
// encrypt is set, and an integrity trailer keyed with K1 is appended if
// authenticate is set.
func (k sessionKeys) sessionPacket(ptype byte, sid, seq uint32, plain []byte, encrypt, authenticate bool) []byte {
	payload := plain
	flags := ptype
	if encrypt {
		iv := make([]byte, 16)
		for i := range iv {
			iv[i] = byte(seq) + byte(i)
		}
		enc, err := crypto.EncryptAESPayload(plain, k.k2[:16], iv)
		if err != nil {
			panic(err)
		}
		payload = enc
		flags |= rmcp.FlagEncrypted
	}
	if authenticate {
		flags |= rmcp.FlagAuthenticated
	}
	p := v2Datagram(flags, sid, seq, payload)
	if !authenticate {
		return p
	}
	pad := types.IntegrityPadLen(12, len(payload))
	for range pad {
		p = append(p, 0xff)
	}
	p = append(p, byte(pad), rmcp.NextHeaderIPMI)
	mac, err := crypto.SessionIntegrityAuthCode(types.IntegrityAlg(k.a.integ), p[rmcp.HeaderLen:], k.k1, "")
	if err != nil {
		panic(err)
	}
	return append(p, mac...)
}

// ipmiResponse builds an IPMI response message (IPMI 2.0 section 13.8)
// with valid checksums.
func ipmiResponse(netFn, cmd, rqSeq, cc byte, data []byte) []byte {
	m := []byte{0x81, (netFn | 1) << 2, 0}
	m[2] = checksum(m[:2])
	body := []byte{0x20, rqSeq << 2, cmd, cc}
	body = append(body, data...)
	m = append(m, body...)
	return append(m, checksum(body))
}

func checksum(b []byte) byte {
	var s byte
	for _, x := range b {
		s += x
	}
	return -s
}
