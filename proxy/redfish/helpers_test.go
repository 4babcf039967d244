package redfish

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

const (
	simUser = "admin"
	simPass = "s3cret-Redfish-pw"
)

// simBMC is a simulated BMC with its Redfish service.
type simBMC struct {
	bmc *bmcsim.BMC
	rf  *bmcsim.Redfish
	ep  Endpoint
}

// startSim starts a simulated BMC (IPMI side with sensors, powered on)
// and its Redfish service, and an Endpoint pinned to its certificate.
func startSim(t testing.TB, o bmcsim.RedfishOptions) *simBMC {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	b, err := bmcsim.Start(ctx, "node01", bmcsim.Options{Password: "ipmi-pw", Sensors: true, PowerOn: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if o.Username == "" {
		o.Username = simUser
	}
	if o.Password == "" {
		o.Password = simPass
	}
	rf, err := b.StartRedfish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rf.Close() })
	return &simBMC{bmc: b, rf: rf, ep: Endpoint{
		Name: "node01", URL: rf.URL(), Username: o.Username, Password: o.Password,
		TLS: bmctls.Verify{PinSHA256: bmctls.Fingerprint(rf.Certificate())},
	}}
}

// logBuffer collects the broker's log output, to check it for secrets.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var _ io.Writer = (*logBuffer)(nil)

// newBroker returns a broker logging at debug level into logs, closed at
// the end of the test.
func newBroker(t testing.TB, o Options) (*Broker, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b := NewBroker(o)
	t.Cleanup(func() { _ = b.Close() })
	return b, logs
}

// noSecrets fails t if any text holds one of the secrets.
func noSecrets(t testing.TB, texts []string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, x := range texts {
			if strings.Contains(x, s) {
				t.Errorf("secret %q found in %q", s, x)
			}
		}
	}
}

// testCtx is the context of table-driven operations.
var testCtx = context.Background()
