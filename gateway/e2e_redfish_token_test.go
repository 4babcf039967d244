package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// TestE2ERedfishTokenMidCommand: through OpenSSH, the simulated Redfish
// BMC invalidates the gateway's session at the worst moments. A read logs
// in again and is answered; a write refused with 401 (not carried out)
// logs in again and is carried out once; a write the BMC carried out but
// whose answer was lost is not sent again, and the user is told its
// outcome is unknown. Neither the BMC password nor any session token the
// BMC issued appears in an output, a gateway log line or an audit record.
func TestE2ERedfishTokenMidCommand(t *testing.T) {
	const pass = "rf-Token-Pass-8"
	var (
		rf                     *bmcsim.Redfish
		expireNext, loseAnswer atomic.Bool
		mu                     sync.Mutex
		tokens                 = map[string]bool{}
	)
	isReset := func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Actions/ComputerSystem.Reset")
	}
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tok := r.Header.Get("X-Auth-Token"); tok != "" {
				mu.Lock()
				tokens[tok] = true
				mu.Unlock()
			}
			switch {
			case isReset(r) && expireNext.CompareAndSwap(true, false):
				rf.ExpireSessions() // the token dies just before the write arrives
			case isReset(r) && loseAnswer.CompareAndSwap(true, false):
				h.ServeHTTP(httptest.NewRecorder(), r) // the BMC acts…
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					_ = conn.Close() // …and its answer is lost
				}
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	sim := startSim(t, "rf07", bmcsim.Options{Username: "unused", Password: "unused-Pass-1", PowerOn: true})
	rf, err := sim.StartRedfish(t.Context(), bmcsim.RedfishOptions{Username: "gw", Password: pass, Wrap: wrap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rf.Close() })
	h := startHarness(t, nil, []testUser{{name: "alice", roles: "[admin]"}}, redfishBMCEntry(t, t.TempDir(), "rf07", rf, "gw", pass, "{}"))
	var outputs []string
	ssh := func(args ...string) (string, string, int) {
		t.Helper()
		out, errOut, code := h.ssh("alice", nil, args...)
		outputs = append(outputs, out, errOut)
		return out, errOut, code
	}

	if out, errOut, code := ssh("power", "status", "rf07"); code != 0 || !strings.Contains(out, "power on") {
		t.Fatalf("power status: %d\n%s\n%s", code, out, errOut)
	}
	logins, _ := rf.Logins()

	// A read on an expired session: one more login, the answer.
	rf.ExpireSessions()
	if out, errOut, code := ssh("power", "status", "rf07"); code != 0 || !strings.Contains(out, "power on") {
		t.Fatalf("power status after the session expired: %d\n%s\n%s", code, out, errOut)
	}
	if n, _ := rf.Logins(); n != logins+1 {
		t.Errorf("%d logins after the expiry, want %d", n, logins+1)
	}

	// A write whose token dies on the way: refused with 401, so nothing
	// was done; the gateway logs in again and sends it once more.
	expireNext.Store(true)
	if out, errOut, code := ssh("power", "off", "rf07"); code != 0 || !strings.Contains(out, "power off sent") {
		t.Fatalf("power off on an expiring token: %d\n%s\n%s", code, out, errOut)
	}
	if r := rf.Resets(); strings.Join(r, ",") != "ForceOff" || sim.Power() {
		t.Fatalf("resets %v, power %v: the write must be carried out exactly once", r, sim.Power())
	}

	// A write carried out whose answer is lost: never sent again.
	loseAnswer.Store(true)
	out, errOut, code := ssh("power", "on", "rf07", "--json")
	var res []struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal([]byte(out), &res)
	if code != 1 || len(res) != 1 || res[0].OK || !strings.Contains(out+errOut, "outcome is unknown") {
		t.Fatalf("power on with a lost answer: %d\n%s\n%s", code, out, errOut)
	}
	if r := rf.Resets(); strings.Join(r, ",") != "ForceOff,On" || !sim.Power() {
		t.Fatalf("resets %v, power %v: the lost write must not be repeated", r, sim.Power())
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeBMCCall, Action: "power.on", Target: "rf07"}, func(r audit.Record) bool {
		return r.Outcome == audit.OutcomeError && strings.Contains(r.Reason, "outcome is unknown")
	})

	// No secret anywhere.
	var recs []string
	for _, r := range h.records(t, audit.Query{}) {
		b, _ := json.Marshal(r)
		recs = append(recs, string(b))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tokens) < 2 {
		t.Fatalf("the BMC saw %d session tokens, want a new one after each expiry", len(tokens))
	}
	secrets := []string{pass}
	for tok := range tokens {
		secrets = append(secrets, tok)
	}
	for _, where := range []struct {
		name  string
		texts []string
	}{{"output", outputs}, {"log", []string{h.logs.String()}}, {"audit record", recs}} {
		for _, text := range where.texts {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("a secret (%.4s…) in a gateway %s:\n%.500s", s, where.name, text)
				}
			}
		}
	}
	if !strings.Contains(h.logs.String(), "logging in again") {
		t.Errorf("the re-logins are not in the gateway's log")
	}
}
