package redfish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// LogEntry is one event log record. Sensor, Event and Direction are as in
// the IPMI broker's SELEntry; ID is the BMC's entry Id (not always a
// number) and Log names the log service ("system/Log1", "manager/SEL").
// Time is zero when the BMC gave none.
type LogEntry struct {
	ID        string    `json:"id"`
	Log       string    `json:"log"`
	Time      time.Time `json:"time"`
	Severity  string    `json:"severity"` // ok, warning, critical or ""
	Sensor    string    `json:"sensor"`
	Event     string    `json:"event"`
	Direction string    `json:"direction,omitempty"` // asserted, deasserted or ""
	EntryType string    `json:"entry_type,omitempty"`
}

type logService struct {
	ID           string `json:"@odata.id"`
	Entries      link
	LogEntryType string
	Actions      struct {
		Clear *struct {
			Target string `json:"target"`
		} `json:"#LogService.ClearLog"`
	}
}

type logEntryDoc struct {
	ID           string `json:"Id"`
	Created      string
	Severity     string
	Message      string
	EntryType    string
	EntryCode    string
	SensorType   string
	SensorNumber *int
	MessageID    string `json:"MessageId"`
}

// logServices returns the log services of the system and the manager, with
// their owner's role as prefix.
func (m *bmc) logServices(ctx context.Context) ([]string, []logService, error) {
	var names []string
	var out []logService
	owners := []struct {
		role string
		path func(context.Context) (string, error)
	}{{"system", m.systemPath}, {"manager", m.managerPath}}
	for _, o := range owners {
		op, err := o.path(ctx)
		if err != nil {
			if o.role == "manager" && (KindOf(err) == KindUnsupported || KindOf(err) == KindConfig) {
				continue
			}
			return nil, nil, err
		}
		var d struct{ LogServices link }
		if _, err := m.get(ctx, op, o.role, &d); err != nil {
			return nil, nil, err
		}
		if d.LogServices.ID == "" {
			continue
		}
		lp, err := m.resolve(d.LogServices.ID)
		if err != nil {
			return nil, nil, err
		}
		list, err := m.members(ctx, lp, o.role+" log services")
		if err != nil {
			return nil, nil, err
		}
		for _, sp := range list {
			var s logService
			if _, err := m.get(ctx, sp, "log service", &s); err != nil {
				return nil, nil, err
			}
			s.ID = sp
			names = append(names, o.role+"/"+text(lastSegment(sp)))
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil, newError(m.name, KindUnsupported, "the BMC offers no log services", nil)
	}
	return names, out, nil
}

// SEL returns the newest limit entries (all when limit <= 0) of the
// system's and the manager's log services, newest first.
func (b *Broker) SEL(ctx context.Context, ep Endpoint, limit int) ([]LogEntry, error) {
	var out []LogEntry
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		names, svcs, err := m.logServices(ctx)
		if err != nil {
			return err
		}
		out = []LogEntry{}
		for i, s := range svcs {
			if s.Entries.ID == "" {
				continue
			}
			es, err := m.logEntries(ctx, s.Entries.ID, names[i])
			if err != nil {
				return err
			}
			out = append(out, es...)
		}
		sort.SliceStable(out, func(i, j int) bool {
			if !out[i].Time.Equal(out[j].Time) {
				return out[i].Time.After(out[j].Time)
			}
			if out[i].Log != out[j].Log {
				return out[i].Log < out[j].Log
			}
			a, errA := strconv.Atoi(out[i].ID)
			c, errC := strconv.Atoi(out[j].ID)
			if errA == nil && errC == nil {
				return a > c
			}
			return out[i].ID > out[j].ID
		})
		if limit > 0 && len(out) > limit {
			out = out[:limit]
		}
		return nil
	})
	return out, err
}

// logEntries reads one entries collection (expanded members, following
// nextLink pages; a page that adds nothing new ends the walk).
func (m *bmc) logEntries(ctx context.Context, ref, log string) ([]LogEntry, error) {
	p, err := m.resolve(ref)
	if err != nil {
		return nil, err
	}
	var out []LogEntry
	seen := map[string]bool{}
	for page := 0; p != "" && page < maxPages && len(out) < maxLogEntries; page++ {
		var c struct {
			Members  []logEntryDoc
			NextLink string `json:"Members@odata.nextLink"`
			Next2    string `json:"@odata.nextLink"`
		}
		if _, err := m.get(ctx, p, "log entries", &c); err != nil {
			return nil, err
		}
		added := 0
		for _, d := range c.Members {
			key := d.ID + "|" + d.Created + "|" + d.Message
			if seen[key] || len(out) >= maxLogEntries {
				continue
			}
			seen[key] = true
			added++
			out = append(out, convertEntry(d, log))
		}
		next := c.NextLink
		if next == "" {
			next = c.Next2
		}
		if next == "" || added == 0 {
			break
		}
		if p, err = m.resolve(next); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func convertEntry(d logEntryDoc, log string) LogEntry {
	e := LogEntry{ID: text(d.ID), Log: log, Severity: health(d.Severity), Event: text(d.Message), EntryType: text(d.EntryType)}
	if t, err := time.Parse(time.RFC3339, d.Created); err == nil {
		e.Time = t.UTC()
	}
	if d.SensorType != "" {
		e.Sensor = text(d.SensorType)
		if d.SensorNumber != nil {
			e.Sensor += fmt.Sprintf(" #0x%02x", *d.SensorNumber&0xff)
		}
	}
	code := strings.ToLower(d.EntryCode)
	switch {
	case strings.Contains(code, "deassert"):
		e.Direction = "deasserted"
	case strings.Contains(code, "assert"):
		e.Direction = "asserted"
	}
	if d.EntryCode != "" && !strings.EqualFold(d.EntryCode, "Assert") && !strings.EqualFold(d.EntryCode, "Deassert") {
		if e.Event == "" {
			e.Event = text(d.EntryCode)
		} else if !strings.Contains(e.Event, d.EntryCode) {
			e.Event = text(d.EntryCode + ": " + e.Event)
		}
	}
	return e
}

// ClearSEL clears the system's log services and the manager's SEL-type
// ones (LogService.ClearLog) and returns the names of those cleared.
// Manager logs of other types (audit, lifecycle) are left alone.
func (b *Broker) ClearSEL(ctx context.Context, ep Endpoint) ([]string, error) {
	var cleared []string
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		names, svcs, err := m.logServices(ctx)
		if err != nil {
			return err
		}
		for i, s := range svcs {
			if strings.HasPrefix(names[i], "manager/") && s.LogEntryType != "SEL" {
				continue
			}
			if s.Actions.Clear == nil || s.Actions.Clear.Target == "" {
				continue
			}
			target, err := m.resolve(s.Actions.Clear.Target)
			if err != nil {
				return err
			}
			if _, err := m.write(ctx, request{method: http.MethodPost, path: target, body: map[string]any{}, write: true},
				"clearing "+names[i]); err != nil {
				var e *Error
				if len(cleared) > 0 && errors.As(err, &e) {
					e.Msg = "cleared " + strings.Join(cleared, ", ") + " but not " + names[i] + ": " + e.Msg
				}
				return err
			}
			cleared = append(cleared, names[i])
		}
		if len(cleared) == 0 {
			return newError(m.name, KindUnsupported, "the BMC offers no log that can be cleared", nil)
		}
		return nil
	})
	return cleared, err
}
