package offline

import (
	"context"
	"errors"
	"testing"

	"github.com/bmcgate/bmcgate/gateway/service"
)

// TestEachBMCStopsWhenDone: once ctx is done, eachBMC starts no further
// BMC and returns the outcomes so far with ctx's error.
func TestEachBMCStopsWhenDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bmcs := []*service.BMC{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	var called []string
	out, err := eachBMC(ctx, 1, bmcs, func(_ context.Context, b *service.BMC) (*service.ScanFixOutcome, error) {
		called = append(called, b.Name)
		cancel()
		return &service.ScanFixOutcome{}, nil
	})
	if len(called) != 1 || called[0] != "a" {
		t.Fatalf("called for %v, want only a", called)
	}
	if len(out) != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("outcomes %d, err %v", len(out), err)
	}
}
