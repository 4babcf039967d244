package ipmi

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/transport"
	"github.com/bougou/go-ipmi/pkg/types"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSOLThroughGuardedSession checks that Serial-over-LAN (encrypted and
// authenticated, as the guard requires) works over Session.Client.
func TestSOLThroughGuardedSession(t *testing.T) {
	for _, suite := range []int{3, 17} {
		t.Run(map[int]string{3: "suite3", 17: "suite17"}[suite], func(t *testing.T) {
			sim := startBMC(t, bmcsim.Options{SOL: true, Privilege: "operator"})
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := Dial(ctx, endpointFor("sol", sim.Addr(), suite), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			c := s.Client()
			sol := func(a bool) error {
				if a {
					_, err := c.ActivatePayload(ctx, &transport.ActivatePayloadRequest{
						PayloadType: types.PayloadTypeSOL, PayloadInstance: 1,
						EnableEncryption: true, EnableAuthentication: true,
					})
					return err
				}
				_, err := c.DeactivatePayload(ctx, &transport.DeactivatePayloadRequest{
					PayloadType: types.PayloadTypeSOL, PayloadInstance: 1,
				})
				return err
			}
			if err := sol(true); err != nil {
				t.Fatalf("activate SOL: %v", err)
			}
			in, inW := io.Pipe()
			var out syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- c.SOLStream(ctx, in, &out, &client.SOLStreamOptions{PollInterval: 20 * time.Millisecond})
			}()
			wait := func(what string) {
				t.Helper()
				for !strings.Contains(out.String(), what) {
					select {
					case <-ctx.Done():
						t.Fatalf("console output %q lacks %q", out.String(), what)
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
			wait("login: ")
			inW.Write([]byte("root\r"))
			wait("root\r\n")
			inW.Close()
			if err := <-done; err != nil {
				t.Fatalf("SOL stream: %v", err)
			}
			if err := sol(false); err != nil {
				t.Fatalf("deactivate SOL: %v", err)
			}
			if st, err := s.PowerStatus(ctx); err != nil || st != PowerStateOff {
				t.Fatalf("session after SOL: %v, %v", st, err)
			}
		})
	}
}
