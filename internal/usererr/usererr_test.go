package usererr

import (
	"errors"
	"fmt"
	"testing"
)

func TestTwoTexts(t *testing.T) {
	cause := errors.New("read udp 10.0.0.5:623: i/o timeout")
	e := New("node01: no answer", cause)
	if e.Error() != "node01: no answer: read udp 10.0.0.5:623: i/o timeout" {
		t.Errorf("Error() = %q: want the message and the cause", e.Error())
	}
	wrapped := fmt.Errorf("power status: %w", e)
	if m, ok := Message(wrapped); !ok || m != "node01: no answer" {
		t.Errorf("Message = %q, %v", m, ok)
	}
	if !errors.Is(wrapped, cause) {
		t.Error("the cause is not reachable with errors.Is")
	}
	if m, ok := Message(cause); ok {
		t.Errorf("an error without a user message has %q", m)
	}
	unknown := New("node99: unknown BMC", ErrUnknownBMC)
	if !errors.Is(fmt.Errorf("x: %w", unknown), ErrUnknownBMC) || errors.Is(unknown, ErrDenied) {
		t.Error("sentinels are not told apart by errors.Is")
	}
	if New("plain", nil).Error() != "plain" {
		t.Error("an error without a cause is not its message")
	}
}

func TestMessageOr(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"a message", fmt.Errorf("login: %w", New("the BMC refused the login", errors.New("HTTP 401"))), "the BMC refused the login"},
		{"no message", errors.New("dial tcp: connection refused"), "fallback"},
		{"an empty message", New("", errors.New("cause")), "fallback"},
		{"no error", nil, "fallback"},
	} {
		if got := MessageOr(tt.err, "fallback"); got != tt.want {
			t.Errorf("%s: MessageOr = %q, want %q", tt.name, got, tt.want)
		}
	}
}
