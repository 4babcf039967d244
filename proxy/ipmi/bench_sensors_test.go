package ipmi

import (
	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// cpuTime is the CPU time this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSensors compares, against one ipmi_sim BMC in one run, reading
// every sensor:
//
//	broker-cached: the broker's warm session and SDR cache (Get SDR
//	               Repository Info, then one Get Sensor Reading per sensor)
//	session-walk:  a warm session without a cache (the SDRs read every call)
//	library-walk:  go-ipmi's GetSensors on a warm session, what bmcgate did
//	               before (SDRs, readings, thresholds, hysteresis every call)
//	ipmi-sensors:  FreeIPMI's ipmi-sensors with its SDR cache, one process
//	               (and session) per read
//
// It counts the datagrams each sends to the BMC (IPMI exchanges) and the
// CPU time spent (this process, or the ipmi-sensors process). The target
// is broker-cached ≤ 0.5× ipmi-sensors.
func BenchmarkSensors(b *testing.B) {
	ipmisim.RequireBinaries(b, "ipmi-sensors")
	sim := ipmisim.StartT(b, ipmisim.Options{Users: ipmiSimUsers, Sensors: true, NoChassisControl: true})
	ctx := context.Background()
	perOp := map[string]time.Duration{}
	// measure runs op through a counting relay; op returns the CPU time of
	// a child process it ran (0 when it ran in this process).
	measure := func(b *testing.B, name string, setup func(addr string) func() time.Duration) {
		m, sent := countingMITM(b, sim.Addr)
		op := setup(m.addr())
		op() // warm up: session, caches
		start, cpu0, sent0 := time.Now(), cpuTime(), sent.Load()
		var child time.Duration
		for b.Loop() {
			child += op()
		}
		n := float64(b.N)
		perOp[name] = time.Since(start) / time.Duration(b.N)
		b.ReportMetric(float64(sent.Load()-sent0)/n, "exchanges/op")
		b.ReportMetric(float64(cpuTime()-cpu0+child)/n/1e6, "cpu-ms/op")
	}
	inSession := func(b *testing.B, read func(s *Session) error) func(addr string) func() time.Duration {
		return func(addr string) func() time.Duration {
			br, _ := newTestBroker(b, Options{KeepAlive: time.Hour})
			ep := endpointFor("bench", addr, 3)
			return func() time.Duration {
				if err := br.do(ctx, ep, false, func(_ context.Context, s *Session) error { return read(s) }); err != nil {
					b.Fatal(err)
				}
				return 0
			}
		}
	}
	b.Run("broker-cached", func(b *testing.B) {
		measure(b, "broker-cached", func(addr string) func() time.Duration {
			br, _ := newTestBroker(b, Options{KeepAlive: time.Hour})
			ep := endpointFor("bench", addr, 3)
			return func() time.Duration {
				if got, err := br.Sensors(ctx, ep); err != nil || len(got) != 3 {
					b.Fatal(got, err)
				}
				return 0
			}
		})
	})
	b.Run("session-walk", func(b *testing.B) {
		measure(b, "session-walk", inSession(b, func(s *Session) error {
			_, err := s.Sensors(ctx)
			return err
		}))
	})
	b.Run("library-walk", func(b *testing.B) {
		measure(b, "library-walk", inSession(b, func(s *Session) error {
			return s.call(ctx, false, func(ctx context.Context) error {
				_, err := s.c.GetSensors(ctx)
				return err
			})
		}))
	})
	b.Run("ipmi-sensors", func(b *testing.B) {
		dir := b.TempDir()
		measure(b, "ipmi-sensors", func(addr string) func() time.Duration {
			return func() time.Duration {
				cmd := exec.Command("ipmi-sensors", "-h", addr, "-u", testUser, "-p", testPassword,
					"-D", "LAN_2_0", "-l", "ADMIN", "-I", "3", "-W", "opensesspriv",
					"--sdr-cache-directory", dir, "--quiet-cache")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("ipmi-sensors: %v: %s", err, out)
				}
				return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
		})
	})
	if c, f := perOp["broker-cached"], perOp["ipmi-sensors"]; c > 0 && f > 0 {
		b.Logf("sensors: broker with SDR cache %.3f ms/op, ipmi-sensors with its cache %.3f ms/op: %.2f× (target ≤ 0.5×); without a cache %.3f ms/op, go-ipmi's walk %.3f ms/op",
			ms(c), ms(f), float64(c)/float64(f), ms(perOp["session-walk"]), ms(perOp["library-walk"]))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
