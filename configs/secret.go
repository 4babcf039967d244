package configs

import (
	"fmt"
	"log/slog"

	"go.yaml.in/yaml/v3"
)

// redacted is how a Secret appears everywhere except Reveal.
const redacted = "[redacted]"

// Secret holds a password. Every way of printing, logging or encoding it
// gives "[redacted]"; only Reveal returns the value. The value sits behind a
// pointer so that printing a struct that holds a Secret in an unexported
// field shows an address, not the password.
type Secret struct {
	v *string
}

// NewSecret wraps a password.
func NewSecret(s string) Secret {
	return Secret{v: &s}
}

// Reveal returns the password. Call it only where the password is used.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether s holds no password (not even an empty one).
func (s Secret) IsZero() bool {
	return s.v == nil
}

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]".
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every fmt verb and flag.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON returns the JSON string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML returns "[redacted]".
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// LogValue makes log/slog print "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// UnmarshalYAML reads an inline password. Errors never quote the value.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a string, got %s", describeNode(n))
	}
	*s = NewSecret(n.Value)
	return nil
}
