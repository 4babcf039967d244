package ipmi

import (
	"math"

	"github.com/bougou/go-ipmi/pkg/types"
)

// convertRaw turns a raw analog reading or threshold into the sensor's
// unit by IPMI 2.0 §36.3: y = L[(M·x + B·10^K1)·10^K2], x the raw byte in
// the record's analog data format. It applies every linearization function
// of table 43-1 itself (go-ipmi's 10^x rounds x to an integer first, so a
// raw 150 at K2 -2 reads 10 instead of 31.62); a non-linear sensor (70h-7Fh)
// has L = x with the factors of its reading (Get Sensor Reading Factors).
// The result is NaN outside L's domain (ln of a negative number).
func convertRaw(raw uint8, format types.SensorAnalogUnitFormat, f types.ReadingFactors, l types.LinearizationFunc) float64 {
	x := float64(types.AnalogValue(raw, format))
	y := (float64(f.M)*x + float64(f.B)*math.Pow(10, float64(f.B_Exp))) * math.Pow(10, float64(f.R_Exp))
	return linearize(l, y)
}

// linearize applies the linearization function l (table 43-1, byte 24 of a
// full sensor record).
func linearize(l types.LinearizationFunc, y float64) float64 {
	switch l {
	case types.LinearizationFunc_LN:
		return math.Log(y)
	case types.LinearizationFunc_LOG10:
		return math.Log10(y)
	case types.LinearizationFunc_LOG2:
		return math.Log2(y)
	case types.LinearizationFunc_E:
		return math.Exp(y)
	case types.LinearizationFunc_EXP10:
		return math.Pow(10, y)
	case types.LinearizationFunc_EXP2:
		return math.Exp2(y)
	case types.LinearizationFunc_1X:
		return 1 / y
	case types.LinearizationFunc_SQR:
		return y * y
	case types.LinearizationFunc_CUBE:
		return y * y * y
	case types.LinearizationFunc_SQRT:
		return math.Sqrt(y)
	case types.LinearizationFunc_CBRT:
		return math.Cbrt(y)
	}
	return y // linear (00h), non-linear (70h-7Fh), or reserved
}

// rawThresholds are a full threshold record's thresholds as the BMC holds
// them: the readable mask (bit 0 LNC .. bit 5 UNR) and the raw values in
// that order. The BMC compares readings with them in raw form, so the
// gateway's verdict does too: that holds whatever the conversion does to
// the order (1/x, a negative M) and for non-linear sensors, whose
// thresholds have no one set of factors.
type rawThresholds struct {
	readable uint8
	raw      [6]uint8 // LNC, LCR, LNR, UNC, UCR, UNR
}

// verdict is the reading raw against the thresholds: "critical" at or past
// a critical or non-recoverable threshold, "warning" at or past a
// non-critical one, "ok" otherwise. Lower thresholds are reached going
// down, upper ones going up, in the record's analog data format.
func (t rawThresholds) verdict(raw uint8, format types.SensorAnalogUnitFormat) string {
	v := types.AnalogValue(raw, format)
	out := "ok"
	for i, level := range [6]string{"warning", "critical", "critical", "warning", "critical", "critical"} {
		if t.readable&(1<<i) == 0 {
			continue
		}
		limit := types.AnalogValue(t.raw[i], format)
		if (i < 3 && v <= limit) || (i >= 3 && v >= limit) {
			out = worse(out, level)
		}
	}
	return out
}

// worse is the more severe of two verdicts (ok < warning < critical).
func worse(a, b string) string {
	rank := map[string]int{"ok": 0, "warning": 1, "critical": 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
