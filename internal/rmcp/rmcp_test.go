package rmcp

import "testing"

func TestIsIPMIClass(t *testing.T) {
	for _, c := range []struct {
		p    []byte
		want bool
	}{
		{append(Header(), AuthTypeRMCPPlus), true},
		{Header(), false},                                         // nothing after the header
		{[]byte{Version, 0, SeqNoAck, 0x06, 0}, false},            // ASF class
		{[]byte{0x05, 0, SeqNoAck, ClassIPMI, 0}, false},          // another version
		{[]byte{Version, 0, SeqNoAck, ClassIPMI | 0x80, 0}, true}, // the ACK bit is not part of the class
	} {
		if got := IsIPMIClass(c.p); got != c.want {
			t.Errorf("IsIPMIClass(% x) = %v, want %v", c.p, got, c.want)
		}
	}
}
