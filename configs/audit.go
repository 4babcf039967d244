package configs

import (
	"fmt"
	"strconv"
	"strings"
)

// Audit configures the audit log's start-up check and disk watch.
type Audit struct {
	// OnTamper is what the gateway does when the audit log fails its
	// verification at start: "refuse" (default) to start, or "warn": start,
	// log an error and record the failure in the log.
	OnTamper string `yaml:"on_tamper"`
	// MinFree is the free space the audit log's filesystem must keep for
	// new sessions (SSH logins, web logins, console attaches) to be
	// accepted: a size ("256MiB", "1GiB", "500MB", bytes), a percentage
	// ("5%") or "0" for no check. Default 256MiB.
	MinFree string `yaml:"min_free"`

	minFreeBytes   uint64
	minFreePercent float64
}

// Audit.OnTamper values.
const (
	OnTamperRefuse = "refuse"
	OnTamperWarn   = "warn"
)

// DefaultAuditMinFree is the default free-space floor.
const DefaultAuditMinFree = "256MiB"

// MinFreeFloor returns the parsed MinFree: bytes and percent (one of them 0).
func (a Audit) MinFreeFloor() (bytes uint64, percent float64) {
	return a.minFreeBytes, a.minFreePercent
}

// audit fills in defaults and checks the audit section.
func (v *validator) audit() {
	a := &v.c.Audit
	switch a.OnTamper {
	case "":
		if v.present("audit.on_tamper") {
			v.probs.add("audit.on_tamper", "must not be empty: use refuse or warn")
		}
		a.OnTamper = OnTamperRefuse
	case OnTamperRefuse, OnTamperWarn:
	default:
		v.probs.add("audit.on_tamper", "unknown value %q: use refuse or warn", a.OnTamper)
	}
	if !v.present("audit.min_free") {
		a.MinFree = DefaultAuditMinFree
	}
	b, p, err := ParseSizeOrPercent(a.MinFree)
	if err != nil {
		v.probs.add("audit.min_free", "%v", err)
		return
	}
	a.minFreeBytes, a.minFreePercent = b, p
}

// sizeUnits are the multipliers ParseSizeOrPercent accepts.
var sizeUnits = []struct {
	suffix string
	mult   uint64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseSizeOrPercent reads "256MiB", "1G", "1048576" or "5%".
func ParseSizeOrPercent(s string) (bytes uint64, percent float64, err error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f >= 100 {
			return 0, 0, fmt.Errorf("%q is not a percentage from 0 to 99", s)
		}
		return 0, f, nil
	}
	mult := uint64(1)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || (mult > 1 && n > (1<<63)/mult) {
		return 0, 0, fmt.Errorf("%q is not a size: use bytes, KiB, MiB, GiB (\"256MiB\") or a percentage (\"5%%\")", s)
	}
	return n * mult, 0, nil
}
