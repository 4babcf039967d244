// Package refusals keeps refused and failed events from flooding the audit
// log. Anyone can make a front door refuse something (a connection, a
// login, a forwarding request) as fast as the network allows; with one
// synced audit record per refusal, that is a way to fill the disk and, with
// the audit log failing closed, to deny every command.
//
// An Aggregator writes the first refusal of a kind at once and counts its
// repeats; once per interval (Flush, driven by Run) it writes one summary
// record for each kind that repeated, carrying the count. A kind is the
// record's code, door, actor and source — the source's address without its
// port, an IPv6 address by its /64 (SourceKey) — together with a class: a
// short, stable description the caller chooses ("handshake timed out",
// "channel direct-tcpip") holding no per-event detail such as keys,
// fingerprints, ids or ports. The detail stays in the first record, and the
// summary carries the last one in its last_reason field.
//
// Memory is bounded: at most Options.MaxKeys kinds are itemised at once;
// events of further kinds are counted per code and door and summarised as
// one record ("not itemised"). A kind that saw no event for a whole
// interval is forgotten, so its next event is written at once again. Close
// writes what is pending; call it at shutdown, after the door has stopped
// producing refusals and before the gateway's last record.
//
// Typical use by a front door:
//
//	agg := refusals.New(svc, refusals.Options{Interval: time.Minute})
//	go agg.Run(ctx)
//	...
//	_ = agg.Note(ctx, "publickey refused", audit.Record{Code: audit.CodeAuthFail, Door: "ssh",
//		Source: remote, Actor: claimed, Outcome: audit.OutcomeFail, Reason: detail})
//	...
//	agg.Close(shutdownCtx)
package refusals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
)

// Writer appends one audit record; *service.Service is one.
type Writer interface {
	Audit(ctx context.Context, r audit.Record) error
}

// Options tune an Aggregator. Zero values take the defaults.
type Options struct {
	// Interval is how often repeats are summarised (default 1m).
	Interval time.Duration
	// MaxKeys bounds the kinds itemised at once (default 512).
	MaxKeys int
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// Logger receives failed summary writes (default slog.Default()).
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultInterval = time.Minute
	DefaultMaxKeys  = 512
)

// maxClassLen bounds a class, which is part of the key held in memory.
const maxClassLen = 128

// Fields of a summary record.
const (
	FieldRepeats    = "repeats"     // events summarised by this record
	FieldSince      = "since"       // RFC 3339 time of the first of them
	FieldClass      = "class"       // the kind's class
	FieldLastReason = "last_reason" // Reason of the last of them
	FieldLastSource = "last_source" // Source (with port) of the last of them
)

type key struct{ code, door, actor, source, class string }

type entry struct {
	tmpl       audit.Record // first record, without per-event parts
	repeats    int
	since      time.Time
	lastReason string
	lastSource string
	seen       bool // an event arrived since the last Flush
}

type overflowKey struct{ code, door string }

// Aggregator aggregates refusal records. It is safe for concurrent use.
type Aggregator struct {
	w   Writer
	opt Options

	mu       sync.Mutex
	entries  map[key]*entry
	overflow map[overflowKey]*entry
	closed   bool

	stopOnce sync.Once
	stop     chan struct{}
}

// New returns an Aggregator writing to w.
func New(w Writer, o Options) *Aggregator {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Aggregator{w: w, opt: o, entries: map[key]*entry{}, overflow: map[overflowKey]*entry{},
		stop: make(chan struct{})}
}

// Note records one refusal. The first of its kind (see the package comment)
// in an interval is written at once and its write error returned; repeats
// are counted for the next summary and return nil. After Close every
// record is written directly.
func (a *Aggregator) Note(ctx context.Context, class string, r audit.Record) error {
	if len(class) > maxClassLen {
		class = class[:maxClassLen]
	}
	k := key{code: r.Code, door: r.Door, actor: r.Actor, source: SourceKey(r.Source), class: class}
	now := a.opt.Now()
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return a.w.Audit(ctx, r)
	}
	if e, ok := a.entries[k]; ok {
		e.count(now, r)
		a.mu.Unlock()
		return nil
	}
	if len(a.entries) >= a.opt.MaxKeys {
		ok := overflowKey{r.Code, r.Door}
		e, found := a.overflow[ok]
		if !found {
			e = &entry{tmpl: audit.Record{Code: r.Code, Door: r.Door, Outcome: r.Outcome}}
			a.overflow[ok] = e
		}
		e.count(now, r)
		a.mu.Unlock()
		return nil
	}
	tmpl := r
	tmpl.Session, tmpl.Data, tmpl.Duration, tmpl.Seq, tmpl.Time = "", nil, 0, 0, time.Time{}
	tmpl.Source = k.source
	tmpl.Fields = maps.Clone(r.Fields)
	a.entries[k] = &entry{tmpl: tmpl, seen: true}
	a.mu.Unlock()
	return a.w.Audit(ctx, r)
}

func (e *entry) count(now time.Time, r audit.Record) {
	if e.repeats == 0 {
		e.since = now
	}
	e.repeats++
	e.lastReason, e.lastSource = r.Reason, r.Source
	e.seen = true
}

// Flush writes one summary record per kind that repeated since the last
// Flush, and forgets kinds that saw no event since then. Write errors are
// logged and returned joined; the counts are not kept for a retry (the
// refusals have already happened and a failing log is reported elsewhere).
func (a *Aggregator) Flush(ctx context.Context) error {
	recs := a.collect()
	var errs []error
	for _, r := range recs {
		if err := a.w.Audit(ctx, r); err != nil {
			a.opt.Logger.Error("audit summary of refusals could not be written", "code", r.Code,
				"class", r.Fields[FieldClass], "repeats", r.Fields[FieldRepeats])
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *Aggregator) collect() []audit.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []audit.Record
	for k, e := range a.entries {
		if e.repeats > 0 {
			out = append(out, summary(e, k.class, fmt.Sprintf("%s: %d more since %s", k.class, e.repeats, stamp(e.since))))
		}
		if !e.seen {
			delete(a.entries, k)
			continue
		}
		e.repeats, e.seen = 0, false
	}
	for k, e := range a.overflow {
		out = append(out, summary(e, "",
			fmt.Sprintf("%d more refused events since %s, not itemised: more than %d kinds at once", e.repeats, stamp(e.since), a.opt.MaxKeys)))
		delete(a.overflow, k)
	}
	return out
}

func summary(e *entry, class, reason string) audit.Record {
	r := e.tmpl
	r.Reason = reason
	r.Fields = maps.Clone(e.tmpl.Fields)
	if r.Fields == nil {
		r.Fields = map[string]string{}
	}
	r.Fields[FieldRepeats] = fmt.Sprint(e.repeats)
	r.Fields[FieldSince] = stamp(e.since)
	r.Fields[FieldLastReason] = e.lastReason
	r.Fields[FieldLastSource] = e.lastSource
	if class != "" {
		r.Fields[FieldClass] = class
	}
	return r
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Run calls Flush every interval until ctx ends or Close is called.
func (a *Aggregator) Run(ctx context.Context) {
	t := time.NewTicker(a.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.stop:
			return
		case <-t.C:
			_ = a.Flush(ctx)
		}
	}
}

// Close stops Run, writes the pending summaries and makes later Notes
// write directly. It is idempotent.
func (a *Aggregator) Close(ctx context.Context) error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.stopOnce.Do(func() { close(a.stop) })
	return a.Flush(ctx)
}

// SourceKey is the part of a remote address that refusals are grouped by:
// the IP address without the port, and for IPv6 its /64 prefix (one host
// usually holds a whole /64). An address that does not parse is returned
// unchanged.
func SourceKey(addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
