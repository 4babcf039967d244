package gateway

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Memory figures of the gateway process for BenchmarkConsoles500.

// gatewayMem is the parent process's memory after a full collection.
type gatewayMem struct {
	heap  uint64 // runtime.MemStats.HeapInuse
	rss   uint64 // VmRSS from /proc/self/status
	live  uint64 // runtime.MemStats.HeapAlloc (live objects)
	stack uint64 // runtime.MemStats.StackInuse (goroutine stacks)
	gs    int    // goroutines
}

func (m gatewayMem) String() string {
	return fmt.Sprintf("heap %d KiB (live %d KiB), rss %d KiB, stacks %d KiB, %d goroutines", m.heap>>10, m.live>>10, m.rss>>10, m.stack>>10, m.gs)
}

// measureMem collects garbage, returns freed memory to the OS and reads the
// heap in use and the resident set size.
func measureMem(tb testing.TB) gatewayMem {
	tb.Helper()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rss, err := vmRSS()
	if err != nil {
		tb.Fatal(err)
	}
	return gatewayMem{heap: m.HeapInuse, live: m.HeapAlloc, rss: rss, stack: m.StackInuse, gs: runtime.NumGoroutine()}
}

// vmRSS returns this process's resident set size in bytes.
func vmRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read /proc/self/status: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc/self/status")
}

// perConsoleKiB is the growth from base to m per console, in KiB.
func perConsoleKiB(base, m gatewayMem, n int) (heap, rss float64) {
	d := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) / 1024 }
	return d(base.heap, m.heap), d(base.rss, m.rss)
}

// streamPeak is the highest memory seen while the viewers streamed.
type streamPeak struct {
	mem gatewayMem
	msg fleetMsg
	err error
}

// sampleWhile measures memory once a second until wait returns and keeps
// the highest of each figure. With BMCGATE_BENCH_HEAPPROFILE set, the heap
// profile of the sample with the most live bytes is written there, and a
// goroutine census next to it (FILE.goroutines).
func sampleWhile(b *testing.B, wait func() (fleetMsg, error)) streamPeak {
	done := make(chan streamPeak, 1)
	go func() {
		m, err := wait()
		done <- streamPeak{msg: m, err: err}
	}()
	var peak gatewayMem
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case p := <-done:
			p.mem = peak
			return p
		case <-t.C:
			m := measureMem(b)
			if path := os.Getenv("BMCGATE_BENCH_HEAPPROFILE"); path != "" && m.live > peak.live {
				writeHeapProfile(b, path)
			}
			peak = gatewayMem{heap: max(peak.heap, m.heap), live: max(peak.live, m.live), rss: max(peak.rss, m.rss),
				stack: max(peak.stack, m.stack), gs: max(peak.gs, m.gs)}
		}
	}
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC() // the profile shows the heap as of the last completed collection
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
	g, err := os.Create(path + ".goroutines")
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	if err := pprof.Lookup("goroutine").WriteTo(g, 1); err != nil {
		b.Fatal(err)
	}
}
