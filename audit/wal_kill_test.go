package audit

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// killChildEnv names the database a child process of TestKill9KeepsAcknowledged
// appends to.
const killChildEnv = "BMCGATE_AUDIT_KILL_CHILD"

// TestKill9KeepsAcknowledged runs a child process that appends from 32
// goroutines with real fsyncs (and WAL files small enough to rotate often)
// and prints every acknowledged record, kills
// it with SIGKILL after a random number of acknowledgements, reopens the
// log and checks that every record the child reported is there, unchanged,
// and that the chain verifies; several rounds on the same log.
func TestKill9KeepsAcknowledged(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		killChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "audit.db")
	acked := map[uint64]string{}
	for round := range 4 {
		after := 50 + rand.IntN(1500) // acknowledgements before the kill
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9KeepsAcknowledged$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			seq, hash, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue // the test framework's own output
			}
			s, err := strconv.ParseUint(seq, 10, 64)
			if err != nil {
				t.Fatalf("child printed %q", sc.Text())
			}
			acked[s] = hash
			if n++; n == after {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		if n < after {
			t.Fatalf("round %d: the child ended after %d acknowledgements (%v)", round, n, err)
		}
		var logs strings.Builder
		s, err := Open(path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		replayed := strings.Contains(logs.String(), "replayed")
		for seq, hash := range acked {
			r, err := s.Get(context.Background(), seq)
			if err != nil || r.Hash != hash {
				t.Fatalf("round %d: acknowledged record #%d: %s, %v; want hash %s", round, seq, r.Hash, err, hash)
			}
		}
		rep, err := s.Verify(context.Background())
		if err != nil || !rep.OK {
			t.Fatalf("round %d: Verify = %+v, %v", round, rep, err)
		}
		t.Logf("round %d: killed after %d acknowledgements; %d records, all %d acknowledged present; replayed from the WAL: %v",
			round, n, rep.Records, len(acked), replayed)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// killChild appends from 32 goroutines until it is killed, printing
// "seq hash" for each acknowledged record.
func killChild(path string) {
	// Small WAL files: the child rotates, preallocates and removes files
	// many times before it is killed.
	s, err := Open(path, Options{Logger: quietLogger(), WALSize: 128 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				r, err := s.Append(context.Background(), rec(fmt.Sprintf("user%d", g), "power.cycle", "node"+strconv.Itoa(i%50), OutcomeAllow))
				if err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(w, "%d %s\n", r.Seq, r.Hash)
				w.Flush() // printed only once acknowledged, at once
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
