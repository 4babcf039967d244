package console

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/bmcssh"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"golang.org/x/crypto/ssh"
)

func hostKey(t *testing.T) bmcssh.HostKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := bmcssh.NewHostKey(sp)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSameTarget: which reload changes end a live console (its line would
// reach the BMC another way) and which leave it.
func TestSameTarget(t *testing.T) {
	key, otherKey := hostKey(t), hostKey(t)
	openbmc, _ := bmcssh.Builtin("openbmc")
	idrac, _ := bmcssh.Builtin("idrac")
	sol := func() *service.BMC {
		return &service.BMC{Name: "n1", Address: "10.0.0.5:623", Labels: map[string]string{"rack": "r1"},
			Endpoint: ipmi.Endpoint{Name: "n1", Host: "10.0.0.5", Port: 623, Username: "gw", Password: "pw-1", CipherSuite: 17}}
	}
	viaSSH := func() *service.BMC {
		b := sol()
		b.SSHConsole = &bmcssh.Target{Name: "n1", Addr: "10.0.0.5:2200", HostKey: key, User: "gw", Password: "pw-1", Profile: openbmc}
		return b
	}
	for _, c := range []struct {
		name   string
		before func() *service.BMC
		change func(*service.BMC)
		same   bool
	}{
		{"nothing", sol, func(*service.BMC) {}, true},
		{"labels only", sol, func(b *service.BMC) { b.Labels = map[string]string{"rack": "r2"} }, true},
		{"SOL address", sol, func(b *service.BMC) { b.Endpoint.Host = "10.0.0.6" }, false},
		{"SOL password", sol, func(b *service.BMC) { b.Endpoint.Password = "pw-2" }, false},
		{"SOL cipher suite", sol, func(b *service.BMC) { b.Endpoint.CipherSuite = 3 }, false},
		{"SOL to none", sol, func(b *service.BMC) { b.NoConsole = true }, false},
		{"SOL to ssh", sol, func(b *service.BMC) { *b = *viaSSH() }, false},
		{"ssh, nothing", viaSSH, func(*service.BMC) {}, true},
		{"ssh to SOL", viaSSH, func(b *service.BMC) { b.SSHConsole = nil }, false},
		{"ssh host key", viaSSH, func(b *service.BMC) { b.SSHConsole.HostKey = otherKey }, false},
		{"ssh profile", viaSSH, func(b *service.BMC) { b.SSHConsole.Profile = idrac }, false},
		{"ssh port", viaSSH, func(b *service.BMC) { b.SSHConsole.Addr = "10.0.0.5:22" }, false},
		{"ssh password", viaSSH, func(b *service.BMC) { b.SSHConsole.Password = "pw-2" }, false},
	} {
		a, b := c.before(), c.before()
		c.change(b)
		if got := sameTarget(a, b); got != c.same {
			t.Errorf("%s: sameTarget = %v, want %v", c.name, got, c.same)
		}
	}
}
