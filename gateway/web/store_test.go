package web

import (
	"path/filepath"
	"testing"
	"time"
)

func testStore(t *testing.T) *store {
	t.Helper()
	s, err := openStore(filepath.Join(t.TempDir(), DBName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestPreLoginIsSingleUse(t *testing.T) {
	s := testStore(t)
	now := time.Now()
	id := newID()
	if err := s.put(bucketLogins, id, &preLogin{State: "st", Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	p, err := s.takePreLogin(id, now)
	if err != nil || p.State != "st" {
		t.Fatalf("first take: %+v %v", p, err)
	}
	if _, err := s.takePreLogin(id, now); err != errNotFound {
		t.Fatalf("second take: %v", err)
	}
	old := newID()
	_ = s.put(bucketLogins, old, &preLogin{State: "st", Expires: now.Add(-time.Second)})
	if _, err := s.takePreLogin(old, now); err != errNotFound {
		t.Fatalf("expired record taken: %v", err)
	}
	if _, err := s.takePreLogin("", now); err != errNotFound {
		t.Fatalf("empty id: %v", err)
	}
}

func TestTOTPStepsOnlyMoveForward(t *testing.T) {
	s := testStore(t)
	for _, tc := range []struct {
		step uint64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}, {50, false}} {
		ok, err := s.useTOTPStep("bg", tc.step)
		if err != nil || ok != tc.want {
			t.Errorf("useTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
		}
	}
	if got := s.totpStep("bg"); got != 101 {
		t.Fatalf("last step %d", got)
	}
}

func TestSessionsStoredByHash(t *testing.T) {
	s := testStore(t)
	id := newID()
	now := time.Now()
	if err := s.put(bucketSessions, id, &Session{User: "u", Expires: now.Add(time.Hour), LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	var got Session
	if err := s.get(bucketSessions, id, &got); err != nil || got.User != "u" {
		t.Fatalf("get: %+v %v", got, err)
	}
	// The raw id is not a key in the database.
	if err := s.get(bucketSessions, string(key(id)), &got); err != errNotFound {
		t.Fatalf("hash used as id: %v", err)
	}
	dead := newID()
	_ = s.put(bucketSessions, dead, &Session{User: "old", Expires: now.Add(time.Hour), LastSeen: now.Add(-2 * time.Hour)})
	if err := s.sweep(now, time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.get(bucketSessions, dead, &got); err != errNotFound {
		t.Fatalf("idle session survived the sweep: %v", err)
	}
	if err := s.get(bucketSessions, id, &got); err != nil {
		t.Fatalf("live session swept: %v", err)
	}
	if handle(id) == handle(dead) || len(handle(id)) != 16 {
		t.Fatal("handles")
	}
}
