package oserr

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCauses(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	_, err := os.Stat(missing)
	if c := PathCause(err); strings.Contains(c.Error(), missing) || !errors.Is(c, fs.ErrNotExist) {
		t.Errorf("PathCause(%v) = %v", err, c)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = net.Listen("tcp", ln.Addr().String())
	if c := ListenCause(err); strings.Contains(c.Error(), ln.Addr().String()) || !errors.Is(c, syscall.EADDRINUSE) {
		t.Errorf("ListenCause(%v) = %v", err, c)
	}
	plain := errors.New("plain")
	if PathCause(plain) != plain || ListenCause(plain) != plain {
		t.Error("an error of another kind is changed")
	}
}
