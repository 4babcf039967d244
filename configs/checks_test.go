package configs

import (
	"slices"
	"strings"
	"testing"
)

func TestChecks(t *testing.T) {
	var sawConfig *Config
	selectorCheck := func(c *Config, report func(field, message string)) {
		sawConfig = c
		for i, r := range c.Roles {
			for j, rule := range r.Allow {
				for k, b := range rule.BMCs {
					if b == "*" {
						report(indexPath(fieldPath(indexPath(fieldPath(indexPath("roles", i), "allow"), j), "bmcs"), k), "wildcard not allowed here")
					}
				}
			}
		}
	}
	globalCheck := func(_ *Config, report func(field, message string)) {
		report("", "policy is empty")
		report("bmcs[0].ipmi.cipher_suite", "absent field points at its parent")
	}
	text := mutate(t, baseConfig(t), "version: 1", "version: 9")
	got := problemLines(t, writeFixture(t, text), LoadOptions{Checks: []Check{selectorCheck, globalCheck}})
	want := []string{
		"DIR/bmcgate.yaml: policy is empty",
		"DIR/bmcgate.yaml:1: version: unsupported version 9: this bmcgate reads version 1",
		"DIR/bmcgate.yaml:9: roles[0].allow[0].bmcs[0]: wildcard not allowed here",
		"DIR/bmcgate.yaml:19: bmcs[0].ipmi.cipher_suite: absent field points at its parent",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if sawConfig == nil || sawConfig.BMCs[0].IPMI.CipherSuite != CipherSuite3 {
		t.Error("checks did not see the config with defaults applied")
	}
}

func TestChecksSeeAValidConfig(t *testing.T) {
	called := false
	c, err := Load(writeFixture(t, baseConfig(t)), LoadOptions{Checks: []Check{func(c *Config, _ func(string, string)) {
		called = c.BMCs[0].Address == "10.0.0.1:623"
	}}})
	if err != nil || c == nil || !called {
		t.Fatalf("Load = %v, %v; check called with normalized config: %v", c, err, called)
	}
}
