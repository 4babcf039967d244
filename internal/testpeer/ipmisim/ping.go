package ipmisim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// presencePing is an RMCP/ASF Presence Ping (DMTF ASF 2.0 section 3.2.4.3).
var presencePing = []byte{
	0x06, 0x00, 0xff, 0x06, // RMCP: version, reserved, no ACK, class ASF
	0x00, 0x00, 0x11, 0xbe, // IANA 4542 (ASF)
	0x80, 0x01, 0x00, 0x00, // Presence Ping, tag 1, reserved, length 0
}

// isPong reports whether b is an ASF Presence Pong.
func isPong(b []byte) bool {
	return len(b) >= 12 && b[0] == 0x06 && b[3]&0x1f == 0x06 && b[8] == 0x40
}

// waitReady pings the simulator until it answers, the process exits or ctx
// ends.
func (s *Sim) waitReady(ctx context.Context) error {
	c, err := net.Dial("udp", s.Addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", s.Addr, err)
	}
	defer c.Close()
	buf := make([]byte, 512)
	for {
		if s.Exited() {
			return errors.New("ipmi_sim exited during start-up")
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ipmi_sim did not answer on %s: %w", s.Addr, err)
		}
		if _, err := c.Write(presencePing); err == nil {
			_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if n, err := c.Read(buf); err == nil && isPong(buf[:n]) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}
