package scan

import (
	"fmt"
	"sort"
)

// Summary is the fleet view of a set of reports.
type Summary struct {
	BMCs        int            `json:"bmcs"`
	Unreachable int            `json:"unreachable"`
	Critical    int            `json:"bmcs_with_critical"`
	BySeverity  map[string]int `json:"findings_by_severity"`
	ByID        map[string]int `json:"findings_by_id"`
	Firmware    []FirmwareN    `json:"firmware"`
}

// FirmwareN counts BMCs running one firmware version.
type FirmwareN struct {
	Manufacturer string `json:"manufacturer"`
	ProductID    uint16 `json:"product_id"`
	Firmware     string `json:"firmware"`
	// Component names the firmware item of a Redfish BMC's inventory
	// (UpdateService/FirmwareInventory), where ProductID is 0.
	Component string `json:"component,omitempty"`
	Count     int    `json:"count"`
}

// Summarize builds the fleet summary. Firmware versions are listed by
// manufacturer and product, most common first, so stragglers stand out.
func Summarize(reports []*Report) Summary {
	s := Summary{BMCs: len(reports), BySeverity: map[string]int{}, ByID: map[string]int{}}
	fw := map[FirmwareN]int{}
	for _, r := range reports {
		if !r.Reachable {
			s.Unreachable++
		}
		if r.Worst() == Critical {
			s.Critical++
		}
		for _, f := range r.Findings {
			s.BySeverity[string(f.Severity)]++
			s.ByID[f.ID]++
		}
		if r.Device != nil {
			fw[FirmwareN{Manufacturer: r.Device.Manufacturer, ProductID: r.Device.ProductID, Firmware: r.Device.Firmware}]++
		}
		if r.Redfish != nil {
			for _, it := range r.Redfish.Firmware {
				fw[FirmwareN{Manufacturer: "Redfish", Component: printableName(it.Name), Firmware: printableName(it.Version)}]++
			}
		}
	}
	for k, n := range fw {
		k.Count = n
		s.Firmware = append(s.Firmware, k)
	}
	sort.Slice(s.Firmware, func(i, j int) bool {
		a, b := s.Firmware[i], s.Firmware[j]
		if a.Manufacturer != b.Manufacturer {
			return a.Manufacturer < b.Manufacturer
		}
		if a.ProductID != b.ProductID {
			return a.ProductID < b.ProductID
		}
		if a.Component != b.Component {
			return a.Component < b.Component
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Firmware < b.Firmware
	})
	return s
}

// String is a one-line summary of a report, for logs and audit fields.
func (r *Report) String() string {
	if !r.Reachable {
		return "unreachable"
	}
	w := r.Worst()
	if w == "" {
		w = "none"
	}
	return fmt.Sprintf("%d findings, worst %s", len(r.Findings), w)
}
