package service

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/redfish"
)

func f64(v float64) *float64 { return &v }

// keys lists the JSON object keys of v, nested objects as "a.b".
func keys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, x := range m {
			out = append(out, prefix+k)
			if sub, ok := x.(map[string]any); ok {
				walk(prefix+k+".", sub)
			}
		}
	}
	walk("", m)
	sort.Strings(out)
	return out
}

// TestReadingsSameShape: a sensor and a log entry have the same fields in
// JSON whichever transport produced them, with nothing a BMC reports
// dropped: thresholds on both sides at three levels, health and state,
// string ids and the log service.
func TestReadingsSameShape(t *testing.T) {
	is := sensorFromIPMI(ipmi.Sensor{Name: "CPU Temp", Type: "Temperature", Value: "45", Unit: "degrees C", Status: "ok",
		Reading: f64(45), State: "enabled", Thresholds: ipmi.Thresholds{UNC: f64(80), UCR: f64(90), UNR: f64(95), LNC: f64(5)}})
	rs := sensorFromRedfish(redfish.Sensor{Name: "CPU1 Temp", Type: "Temperature", Value: "41", Unit: "degrees C", Status: "ok",
		Reading: f64(41), Health: "ok", State: "enabled", Thresholds: &redfish.Thresholds{UpperCaution: f64(42), UpperCritical: f64(45), UpperFatal: f64(48), LowerFatal: f64(0)}})
	bare := sensorFromRedfish(redfish.Sensor{Name: "Intrusion", Value: "na", Status: "na"})
	if a, b, c := keys(t, is), keys(t, rs), keys(t, bare); !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, c) {
		t.Errorf("sensor shapes differ:\nipmi    %v\nredfish %v\nbare    %v", a, b, c)
	}
	if got := is.Thresholds; *got.UpperFatal != 95 || *got.UpperCritical != 90 || *got.UpperNonCritical != 80 || *got.LowerNonCritical != 5 || got.LowerCritical != nil {
		t.Errorf("IPMI thresholds %+v", got)
	}
	if got := rs.Thresholds; *got.UpperFatal != 48 || *got.UpperNonCritical != 42 || *got.LowerFatal != 0 || rs.Health != "ok" || rs.State != "enabled" {
		t.Errorf("Redfish sensor %+v", rs)
	}
	if s := is.Thresholds.String(); s != "lower 5/-/- upper 80/90/95" {
		t.Errorf("thresholds text %q", s)
	}
	if s := bare.Thresholds.String(); s != "-" {
		t.Errorf("no thresholds: %q", s)
	}

	when := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	ie := selFromIPMI([]ipmi.SELEntry{
		{ID: 1, Time: when, Sensor: "Temperature #0x01", Event: "Upper Non-critical - going high", Direction: "asserted", Severity: "warning", Raw: "0100"},
		{ID: 2, Sensor: "Temperature #0x01", Event: "Upper Non-critical - going high", Direction: "deasserted", Severity: "ok", Raw: "0200"},
	})
	re := selFromRedfish([]redfish.LogEntry{
		{ID: "a7", Log: "manager/SEL", Time: when.Add(time.Hour), Severity: "critical", Event: "PSU lost"},
		{ID: "3", Log: "system/Log1", Time: when, Event: "boot"},
	})
	if ie[0].ID != "2" || ie[1].ID != "1" || ie[0].Log != "sel" || ie[1].Severity != "warning" {
		t.Errorf("IPMI entries not newest first: %+v", ie)
	}
	if re[0].ID != "a7" || re[0].Log != "manager/SEL" || re[0].Message != "PSU lost" || re[0].Severity != "critical" {
		t.Errorf("Redfish entries %+v", re)
	}
	if a, b := keys(t, ie[0]), keys(t, re[0]); !reflect.DeepEqual(a, b) {
		t.Errorf("log entry shapes differ:\nipmi    %v\nredfish %v", a, b)
	}
	js, _ := json.Marshal(ie)
	var back []map[string]any
	if err := json.Unmarshal(js, &back); err != nil || back[0]["time"] != "" || back[1]["time"] != "2026-11-30T10:00:00Z" {
		t.Errorf("times in JSON: %s", js)
	}
}
