package ipmi

import (
	"math"
	"testing"

	"github.com/bougou/go-ipmi/pkg/types"
)

func TestConvertRaw(t *testing.T) {
	unsigned, twos := types.SensorAnalogUnitFormat_Unsigned, types.SensorAnalogUnitFormat_2sComplement
	for _, c := range []struct {
		name   string
		raw    uint8
		format types.SensorAnalogUnitFormat
		f      types.ReadingFactors
		l      types.LinearizationFunc
		want   float64
	}{
		{"linear", 201, unsigned, types.ReadingFactors{M: 6, R_Exp: -2}, types.LinearizationFunc_Linear, 12.06},
		{"offset", 10, unsigned, types.ReadingFactors{M: 2, B: 5, B_Exp: 1}, types.LinearizationFunc_Linear, 70},
		{"signed", 0xf6, twos, types.ReadingFactors{M: 1}, types.LinearizationFunc_Linear, -10},
		{"exp10 of a fraction", 150, unsigned, types.ReadingFactors{M: 1, R_Exp: -2}, types.LinearizationFunc_EXP10, 31.6228},
		{"1/x", 4, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_1X, 0.25},
		{"sqr", 12, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_SQR, 144},
		{"cube", 3, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_CUBE, 27},
		{"sqrt", 81, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_SQRT, 9},
		{"cube root", 27, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_CBRT, 3},
		{"log2", 8, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_LOG2, 3},
		{"exp2", 3, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_EXP2, 8},
		{"e", 0, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_E, 1},
		{"non-linear: factors as given", 40, unsigned, types.ReadingFactors{M: 1}, types.LinearizationFunc_NonLinear, 40},
	} {
		if got := convertRaw(c.raw, c.format, c.f, c.l); math.Abs(got-c.want) > 1e-4 {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if v := convertRaw(0xff, twos, types.ReadingFactors{M: 1}, types.LinearizationFunc_LN); !math.IsNaN(v) {
		t.Errorf("ln(-1) = %v, want NaN", v)
	}
}

func TestRawThresholdVerdict(t *testing.T) {
	unsigned, twos := types.SensorAnalogUnitFormat_Unsigned, types.SensorAnalogUnitFormat_2sComplement
	// LNC 30, LCR 20, UNC 70, UCR 80, UNR 90 (LNR not readable).
	th := rawThresholds{readable: 0b111011, raw: [6]uint8{30, 20, 0, 70, 80, 90}}
	for _, c := range []struct {
		raw  uint8
		want string
	}{{50, "ok"}, {31, "ok"}, {30, "warning"}, {20, "critical"}, {0, "critical"}, {69, "ok"}, {70, "warning"}, {85, "critical"}, {255, "critical"}} {
		if got := th.verdict(c.raw, unsigned); got != c.want {
			t.Errorf("raw %d: %s, want %s", c.raw, got, c.want)
		}
	}
	// Signed: -10 is below a lower critical of 0xfb (-5); unsigned, 0xf6 would be above every upper.
	signed := rawThresholds{readable: 0b000010, raw: [6]uint8{0, 0xfb}}
	if got := signed.verdict(0xf6, twos); got != "critical" {
		t.Errorf("signed -10 against LCR -5: %s", got)
	}
	if got := signed.verdict(0x02, twos); got != "ok" {
		t.Errorf("signed 2 against LCR -5: %s", got)
	}
	if got := (rawThresholds{}).verdict(200, unsigned); got != "ok" {
		t.Errorf("no thresholds: %s", got)
	}
}
