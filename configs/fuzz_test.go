package configs

import (
	"errors"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that every failure
// is an *Error with at least one problem.
func FuzzParse(f *testing.F) {
	f.Add(Example)
	f.Add([]byte(baseConfig(f)))
	f.Add([]byte("version: 1\nbmcs: [{name: a, labels: {x: *y}}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("version: 1\nversion: 2\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, LoadOptions{SkipSecrets: true})
		if err == nil {
			if c == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		var cerr *Error
		if !errors.As(err, &cerr) || len(cerr.Problems) == 0 {
			t.Fatalf("Parse error %v (%T) is not an *Error with problems", err, err)
		}
	})
}
