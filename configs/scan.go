package configs

import "time"

// Scan configures the BMC posture scan (`bmcgate scan`, `ssh gw scan` and
// the periodic scan).
type Scan struct {
	// Interval runs a scan of the whole inventory this often; absent means
	// no periodic scan (on-demand scans still work).
	Interval Duration `yaml:"interval"`
	// Concurrency is how many BMCs are scanned at once (8).
	Concurrency int `yaml:"concurrency"`
	// ProbeInterval is the least time between two probes to one BMC (20ms):
	// the per-BMC rate limit.
	ProbeInterval Duration `yaml:"probe_interval"`
	// Timeout bounds the wait for one probe's answer (2s).
	Timeout Duration `yaml:"timeout"`
	// Credentials is a YAML file of vendor default logins to test offline;
	// absent means the list built into bmcgate
	// (configs/default-credentials.yaml).
	Credentials string `yaml:"credentials"`
}

// Scan defaults and ranges.
const (
	DefaultScanConcurrency   = 8
	DefaultScanProbeInterval = 20 * time.Millisecond
	DefaultScanTimeout       = 2 * time.Second
)

// scan fills in defaults and checks the scan section.
func (v *validator) scan() {
	s := &v.c.Scan
	if f := "scan.interval"; v.present(f) && (s.Interval.Duration < time.Minute || s.Interval.Duration > 7*24*time.Hour) {
		v.probs.add(f, "%s is out of range: use 1m to 168h, or leave it out for no periodic scan", s.Interval.Duration)
	}
	v.checkInts("scan", []intLimit{{"concurrency", &s.Concurrency, DefaultScanConcurrency, 1, 1024}}, nil)
	durs := []durationLimit{
		{"probe_interval", &s.ProbeInterval, DefaultScanProbeInterval, time.Millisecond, 10 * time.Second},
		{"timeout", &s.Timeout, DefaultScanTimeout, 100 * time.Millisecond, time.Minute},
	}
	v.checkDurations("scan", durs, nil)
	if s.Credentials != "" {
		s.Credentials = v.resolve(s.Credentials)
		if _, err := LoadDefaultCredentials(s.Credentials); err != nil {
			v.probs.add("scan.credentials", "%v", err)
		}
	}
}
