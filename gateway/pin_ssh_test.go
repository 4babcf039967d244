package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	gossh "golang.org/x/crypto/ssh"
)

// TestPinSSH fetches the host key of a simulated BMC's SSH console service
// and prints the line that pins it; a pinned key is recognised.
func TestPinSSH(t *testing.T) {
	sim := startSim(t, "node01", bmcsim.Options{Username: "u", Password: "unused-Pass-1"})
	sc, err := sim.StartSSH(t.Context(), bmcsim.SSHOptions{Username: "bmcgate", Password: "bmc-Passw0rd"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Close() })
	_, port, _ := strings.Cut(sc.Addr(), ":")
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sc.HostKey())))

	c := webConfig(t, fmt.Sprintf("    console:\n      via: ssh\n      port: %s\n", port))
	var out bytes.Buffer
	if err := offline.Pin(context.Background(), offline.PinOptions{Config: c, BMC: "node01", SSH: true, In: strings.NewReader("y\n"), Out: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("host_key: %q", line)) || !strings.Contains(out.String(), gossh.FingerprintSHA256(sc.HostKey())) {
		t.Errorf("pin --ssh printed:\n%s", out.String())
	}
	out.Reset()
	if err := offline.Pin(context.Background(), offline.PinOptions{Config: c, BMC: "node01", SSH: true, In: strings.NewReader("n\n"), Out: &out}); !errors.Is(err, offline.ErrNotConfirmed) {
		t.Errorf("not confirmed: %v", err)
	}

	c = webConfig(t, fmt.Sprintf("    console:\n      via: ssh\n      port: %s\n      host_key: %q\n", port, line))
	out.Reset()
	if err := offline.Pin(context.Background(), offline.PinOptions{Config: c, BMC: "node01", SSH: true, Out: &out}); err != nil || !strings.Contains(out.String(), "already pinned") {
		t.Errorf("pinned key: %v\n%s", err, out.String())
	}
	c = webConfig(t, "")
	if err := offline.Pin(context.Background(), offline.PinOptions{Config: c, BMC: "node01", SSH: true, Out: &out}); err == nil || !strings.Contains(err.Error(), "console.via: ssh") {
		t.Errorf("SOL BMC: %v", err)
	}
}
