package ipmi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bougou/go-ipmi/pkg/command/storage"
	"github.com/bougou/go-ipmi/pkg/types"
)

// fakeRepo is an SDR repository behind the exchanger interface, with the
// refusals real BMCs make.
type fakeRepo struct {
	records [][]byte // record i has ID i+1
	stamp   storage.GetSDRRepoInfoResponse
	noInfo  bool // Get SDR Repository Info is an invalid command
	maxRead int  // largest read served (0: whole records)
	cancel  int  // reservations canceled by the next Get SDR calls
	loop    bool // the last record links back to the first

	reservation uint16
	calls       map[string]int
}

func newFakeRepo(n int) *fakeRepo {
	r := &fakeRepo{calls: map[string]int{}}
	for i := range n {
		r.records = append(r.records, compactSDR(uint16(i+1), byte(i+1), fmt.Sprintf("S%d", i+1)))
	}
	r.stamp.RecordCount = uint16(n)
	return r
}

func refuse(cc uint8) error { return types.NewResponseError(types.CompletionCode(cc), "refused") }

func (r *fakeRepo) Exchange(_ context.Context, req types.Request, res types.Response) error {
	switch q := req.(type) {
	case *storage.GetSDRRepoInfoRequest:
		r.calls["info"]++
		if r.noInfo {
			return refuse(0xc1)
		}
		return res.Unpack(r.stamp.Pack())
	case *storage.ReserveSDRRepoRequest:
		r.calls["reserve"]++
		r.reservation++
		return res.Unpack([]byte{byte(r.reservation), byte(r.reservation >> 8)})
	case *storage.GetSDRRequest:
		r.calls["get"]++
		if r.cancel > 0 && q.ReadOffset > 0 {
			r.cancel--
			return refuse(ccReservationCanceled)
		}
		i := int(q.RecordID) - 1
		if q.RecordID == 0 {
			i = 0
		}
		if i < 0 || i >= len(r.records) {
			return refuse(0xcb)
		}
		rec := r.records[i]
		n := int(q.ReadBytes)
		if n == 0xff {
			n = len(rec) - int(q.ReadOffset)
		}
		if r.maxRead > 0 && n > r.maxRead {
			return refuse(ccCannotReturnBytes)
		}
		if q.ReadOffset > 0 && q.ReservationID != r.reservation {
			return refuse(ccReservationCanceled)
		}
		next := uint16(i + 2)
		if i == len(r.records)-1 {
			next = 0xffff
			if r.loop {
				next = 1
			}
		}
		end := min(int(q.ReadOffset)+n, len(rec))
		return res.Unpack(append([]byte{byte(next), byte(next >> 8)}, rec[q.ReadOffset:end]...))
	}
	return fmt.Errorf("unexpected request %T", req)
}

func names(defs []sensorDef) string {
	var b []string
	for _, d := range defs {
		b = append(b, d.name)
	}
	return strings.Join(b, ",")
}

func TestSDRWalk(t *testing.T) {
	all := "S1,S2,S3,S4,S5"
	tests := []struct {
		name  string
		mod   func(*fakeRepo)
		want  string
		err   string
		chunk int // read size the walk ends with
		gets  int // Get SDR exchanges
	}{
		{name: "whole records", want: all, gets: 5},
		// One refused whole read, one refused 32-byte piece, then a header
		// and two pieces per 34-byte record.
		{name: "whole records refused, 16-byte pieces", mod: func(r *fakeRepo) { r.maxRead = 16 }, want: all, chunk: 16, gets: 1 + 1 + 5*3},
		{name: "reservation canceled once", mod: func(r *fakeRepo) { r.maxRead = 20; r.cancel = 1 }, want: all, chunk: 16},
		{name: "repository keeps changing", mod: func(r *fakeRepo) { r.maxRead = 20; r.cancel = 100 }, err: "changed during the read"},
		{name: "records link back", mod: func(r *fakeRepo) { r.loop = true }, err: "links back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newFakeRepo(5)
			if tc.mod != nil {
				tc.mod(r)
			}
			defs, chunk, err := walkSDR(t.Context(), r, 0)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || names(defs) != tc.want || chunk != tc.chunk {
				t.Fatalf("walk = %q, read size %d, %v; want %q, %d", names(defs), chunk, err, tc.want, tc.chunk)
			}
			if tc.gets != 0 && r.calls["get"] != tc.gets {
				t.Fatalf("%d Get SDR, want %d", r.calls["get"], tc.gets)
			}
		})
	}
}

func TestSDRWalkBounds(t *testing.T) {
	r := newFakeRepo(maxSDRRecords + 1)
	if _, _, err := walkSDR(t.Context(), r, 0); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("err = %v", err)
	}
	if got := r.calls["get"]; got != maxSDRRecords {
		t.Fatalf("%d reads, want %d", got, maxSDRRecords)
	}
}

func TestSDRCacheStamp(t *testing.T) {
	ctx := t.Context()
	r := newFakeRepo(3)
	var c sdrCache
	read := func() string {
		t.Helper()
		defs, err := sensorDefs(ctx, r, &c)
		if err != nil {
			t.Fatal(err)
		}
		return names(defs)
	}
	if got := read(); got != "S1,S2,S3" || r.calls["get"] != 3 {
		t.Fatalf("first read %q with %d Get SDR", got, r.calls["get"])
	}
	read()
	if r.calls["get"] != 3 || r.calls["info"] != 2 {
		t.Fatalf("unchanged repository: %v", r.calls)
	}
	// Each part of the stamp on its own invalidates the cache.
	for _, change := range []func(){
		func() { r.stamp.MostRecentAdditionTime = r.stamp.MostRecentAdditionTime.Add(1e9) },
		func() { r.stamp.MostRecentEraseTime = r.stamp.MostRecentEraseTime.Add(1e9) },
		func() { r.records = r.records[:2]; r.stamp.RecordCount = 2 },
	} {
		before := r.calls["get"]
		change()
		read()
		if r.calls["get"] == before {
			t.Fatalf("stamp changed, cache still used: %v", r.calls)
		}
	}
	if got := read(); got != "S1,S2" {
		t.Fatalf("after removing a record: %q", got)
	}

	// Whole-record reads refused once are not tried again.
	r = newFakeRepo(3)
	r.maxRead = 16
	c = sdrCache{}
	read()
	first := r.calls["get"]
	r.stamp.RecordCount = 4
	r.records = append(r.records, compactSDR(4, 4, "S4"))
	read()
	if c.readSize() != 16 || r.calls["get"]-first != 4*3 {
		t.Fatalf("second walk: %d Get SDR at read size %d, want 12 at 16", r.calls["get"]-first, c.readSize())
	}

	// No Get SDR Repository Info: nothing is cached, every call walks.
	r = newFakeRepo(2)
	r.noInfo = true
	c = sdrCache{}
	read()
	read()
	if r.calls["get"] != 4 || c.valid {
		t.Fatalf("without a stamp: %v, cached %v", r.calls, c.valid)
	}

	// A transport error is returned as it is.
	var fail failing
	if _, err := sensorDefs(ctx, fail, &c); !errors.Is(err, errFake) {
		t.Fatalf("err = %v", err)
	}
}

var errFake = errors.New("no answer")

type failing struct{}

func (failing) Exchange(context.Context, types.Request, types.Response) error { return errFake }
