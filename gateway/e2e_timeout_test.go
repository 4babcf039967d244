package gateway

import (
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// TestE2ESessionTimeouts: an idle interactive session is closed after the
// idle timeout, and a busy one at the absolute session lifetime.
func TestE2ESessionTimeouts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*configs.Config)
		input  func(w func(string))
	}{
		{name: "idle", mutate: func(c *configs.Config) { c.Limits.IdleTimeout.Duration = 700 * time.Millisecond }},
		{name: "max session", mutate: func(c *configs.Config) { c.Limits.MaxSessionDuration.Duration = 1500 * time.Millisecond },
			input: func(w func(string)) {
				for i := 0; i < 40; i++ {
					w("whoami\n")
					time.Sleep(100 * time.Millisecond)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startSim(t, "node01", bmcsim.Options{Username: "gw", Password: "pw"})
			h := startHarnessWith(t, []testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw", suite: 17}},
				[]testUser{{name: "alice", roles: "[admin]"}}, "", tt.mutate)
			sess := startInteractive(t, h, "alice")
			if tt.input != nil {
				go tt.input(sess.send)
			}
			select {
			case <-sess.done:
			case <-time.After(8 * time.Second):
				t.Fatal("session was not closed")
			}
		})
	}
}
