package bmcssh

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentServer accepts TCP connections and never speaks SSH (a hung BMC
// service, or something else on the port); it answers with banner when
// set, then nothing.
func silentServer(t *testing.T, banner string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if banner != "" {
				_, _ = c.Write([]byte(banner))
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// TestConnectTimeout: a service that accepts and then says nothing, or
// stops after its banner, fails the connection by ConnectTimeout.
func TestConnectTimeout(t *testing.T) {
	k, _ := newKey(t)
	for _, banner := range []string{"", "SSH-2.0-hung\r\n"} {
		addr := silentServer(t, banner)
		leaks := goroutines(t)
		o := fastOptions(nil)
		o.ConnectTimeout = 300 * time.Millisecond
		start := time.Now()
		l, w := openLine(t, Target{Name: "hung", Addr: addr, HostKey: pin(t, k.PublicKey()), User: "u", Password: testPassword,
			Profile: builtins[ProfileOpenBMC]}, o)
		st, _ := w.status(t, 0, StateDropped, KindConnect)
		if !strings.Contains(st.Msg, "timed out") {
			t.Errorf("banner %q: %q", banner, st.Msg)
		}
		t.Logf("banner %q: %s after %v", banner, st.Msg, time.Since(start))
		l.Close()
		leaks()
	}
}

// TestCloseWhileConnecting: Close does not wait for a handshake that
// hangs.
func TestCloseWhileConnecting(t *testing.T) {
	k, _ := newKey(t)
	addr := silentServer(t, "SSH-2.0-hung\r\n")
	leaks := goroutines(t)
	o := fastOptions(nil)
	o.ConnectTimeout = time.Hour
	l, w := openLine(t, Target{Name: "hung", Addr: addr, HostKey: pin(t, k.PublicKey()), User: "u", Password: testPassword,
		Profile: builtins[ProfileOpenBMC]}, o)
	w.status(t, 0, StateConnecting, 0)
	start := time.Now()
	l.Close()
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Close took %v", d)
	}
	leaks()
}
