package scan

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode"
)

// printable replaces control and non-printable characters, so text that
// came from a BMC (user names, manufacturer strings) cannot drive a
// terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}

// WriteTable writes the reports for people: one block per BMC with its
// findings, worst first.
func WriteTable(w io.Writer, reports []*Report) {
	for _, r := range reports {
		fw := "-"
		if r.Device != nil {
			fw = fmt.Sprintf("%s product %d firmware %s", r.Device.Manufacturer, r.Device.ProductID, r.Device.Firmware)
		}
		worst := string(r.Worst())
		if worst == "" {
			worst = "none"
		}
		if !r.Reachable {
			worst = "unreachable"
		}
		fmt.Fprintf(w, "%s  %s  worst: %s  (%s, scanned %s)\n", printable(r.BMC), r.Address, worst, printable(fw), r.Time.Format("2006-01-02 15:04:05Z"))
		fs := append([]Finding(nil), r.Findings...)
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].Severity.Rank() > fs[j].Severity.Rank() })
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, f := range fs {
			fix := ""
			if f.Fixable {
				fix = " [--fix]"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\n", strings.ToUpper(string(f.Severity)), f.ID, printable(f.Title), fix)
			fmt.Fprintf(tw, "  \t\tevidence: %s\n", printable(f.Evidence))
			fmt.Fprintf(tw, "  \t\tremedy: %s\n", printable(f.Remedy))
		}
		_ = tw.Flush()
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  not checked: %s\n", printable(p))
		}
		if len(r.Users) > 0 {
			var us []string
			for _, u := range r.Users {
				name := u.Name
				if u.ID == 1 && name == "" {
					name = "(null)"
				}
				us = append(us, fmt.Sprintf("%d:%s(%s)", u.ID, printable(name), u.Privilege))
			}
			fmt.Fprintf(w, "  users: %s\n", strings.Join(us, " "))
		}
	}
}

// WriteSummary writes the fleet summary for people.
func WriteSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "fleet: %d BMCs scanned, %d unreachable, %d with critical findings\n", s.BMCs, s.Unreachable, s.Critical)
	var sev []string
	for _, k := range []Severity{Critical, High, Medium, Low, Info} {
		if n := s.BySeverity[string(k)]; n > 0 {
			sev = append(sev, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(sev) > 0 {
		fmt.Fprintf(w, "findings: %s\n", strings.Join(sev, ", "))
	}
	ids := make([]string, 0, len(s.ByID))
	for id := range s.ByID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if s.ByID[ids[i]] != s.ByID[ids[j]] {
			return s.ByID[ids[i]] > s.ByID[ids[j]]
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		fmt.Fprintf(w, "  %-32s %d BMCs\n", id, s.ByID[id])
	}
	if len(s.Firmware) > 0 {
		fmt.Fprintln(w, "firmware:")
		for _, f := range s.Firmware {
			if f.Component != "" {
				fmt.Fprintf(w, "  %-24s %-14s %-12s %d\n", printable(f.Manufacturer), printable(f.Component), printable(f.Firmware), f.Count)
				continue
			}
			fmt.Fprintf(w, "  %-24s product %-6d %-12s %d\n", printable(f.Manufacturer), f.ProductID, printable(f.Firmware), f.Count)
		}
	}
}
