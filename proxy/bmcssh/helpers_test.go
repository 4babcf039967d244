package bmcssh

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// wait is the generous deadline of a real-peer test step (CI runs the
// tests with -race on a loaded 2-core machine).
const wait = 60 * time.Second

// testPassword is the BMC password in tests; no log, error or status may
// contain it.
const testPassword = "pa55-Wd-NEVER-logged-7f3a"

// watcher collects a line's output, statuses and lost input, and wakes
// waiters on every change.
type watcher struct {
	mu       sync.Mutex
	out      []byte
	statuses []Status
	lost     []byte
	changed  chan struct{}
}

func newWatcher() *watcher { return &watcher{changed: make(chan struct{})} }

func (w *watcher) signalLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// options hooks the watcher into o.
func (w *watcher) options(o Options) Options {
	o.OnOutput = func(p []byte) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if len(w.out)+len(p) <= 4<<20 {
			w.out = append(w.out, p...)
		}
		w.signalLocked()
	}
	o.OnStatus = func(s Status) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.statuses = append(w.statuses, s)
		w.signalLocked()
	}
	o.OnInputLost = func(p []byte, _ string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.lost = append(w.lost, p...)
		w.signalLocked()
	}
	return o
}

// until waits for cond (checked under the watcher's lock) or fails t.
func (w *watcher) until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		ok, ch := cond(), w.changed
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("timed out waiting for %s; output %q; statuses %v", what, tailOf(w.out, 300), w.statusesLocked())
		}
	}
}

func tailOf(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (w *watcher) statusesLocked() []string {
	var s []string
	for _, st := range w.statuses {
		s = append(s, fmt.Sprintf("%s/%s: %s (%v)", st.State, kindName(st.Kind), st.Msg, st.Err))
	}
	return s
}

func kindName(k Kind) string {
	if k == 0 {
		return "-"
	}
	return k.String()
}

// output waits for s in the output after position from; it returns the
// position after it.
func (w *watcher) output(t testing.TB, from int, s string) int {
	t.Helper()
	var at int
	w.until(t, fmt.Sprintf("output %q", s), func() bool {
		if from > len(w.out) {
			return false
		}
		i := bytes.Index(w.out[from:], []byte(s))
		at = from + i + len(s)
		return i >= 0
	})
	return at
}

// outLen is how much output arrived so far.
func (w *watcher) outLen() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.out)
}

// status waits for a status in state (and of kind, unless 0) after the
// first n statuses; it returns it and the count so far.
func (w *watcher) status(t testing.TB, n int, state State, kind Kind) (Status, int) {
	t.Helper()
	var got Status
	var count int
	w.until(t, fmt.Sprintf("status %s/%s", state, kindName(kind)), func() bool {
		for i := n; i < len(w.statuses); i++ {
			s := w.statuses[i]
			if s.State == state && (kind == 0 || s.Kind == kind) {
				got, count = s, i+1
				return true
			}
		}
		return false
	})
	return got, count
}

// texts is every status message and error text, for credential checks.
func (w *watcher) texts() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, s := range w.statuses {
		b.WriteString(s.Msg + "\n")
		if s.Err != nil {
			b.WriteString(s.Err.Error() + "\n")
			fmt.Fprintf(&b, "%+v %#v\n", s.Err, s.Err)
		}
	}
	return b.String()
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// debugLogger logs everything into a buffer.
func debugLogger() (*slog.Logger, *syncBuffer) {
	b := &syncBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// noSecrets fails t when text holds the password or one of the other
// secrets (encodings of a private key).
func noSecrets(t testing.TB, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range append([]string{testPassword}, secrets...) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s holds a secret (%.12s…)", where, s)
		}
	}
}

// keySecrets are encodings of priv that must never be shown.
func keySecrets(priv ed25519.PrivateKey) []string {
	seed := priv.Seed()
	return []string{base64.StdEncoding.EncodeToString(seed), hex.EncodeToString(seed),
		base64.StdEncoding.EncodeToString(priv)}
}

// goroutines returns a check that the goroutine count came back to what
// it is now. Goroutines of the IPMI simulator's server, which it starts
// lazily, are not counted; others of the test's peers end asynchronously
// after their connections close, so the check retries for a while.
func goroutines(t testing.TB) func() {
	t.Helper()
	before, _ := countGoroutines()
	return func() {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			n, stacks := countGoroutines()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("goroutines: %d before, %d after:\n%s", before, n, stacks)
			}
			time.Sleep(20 * time.Millisecond) // retry interval of a leak check, not synchronisation
		}
	}
}

func countGoroutines() (int, string) {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.TrimSpace(g) != "" && !strings.Contains(g, "bougou/go-ipmi/pkg/server") {
			n++
		}
	}
	return n, string(buf)
}

// newKey returns a fresh Ed25519 key pair.
func newKey(t testing.TB) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

// pin pins k or fails t.
func pin(t testing.TB, k ssh.PublicKey) HostKey {
	t.Helper()
	h, err := NewHostKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fastOptions are options for tests: quick reconnects, logging to a
// buffer.
func fastOptions(log *slog.Logger) Options {
	return Options{ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
		RefusedRetry: 200 * time.Millisecond, ConnectTimeout: wait, StepTimeout: wait, Logger: log}
}
