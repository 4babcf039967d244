package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bmcgate/bmcgate/configs"
)

// Bounds of the reasons a refused reload records.
const (
	maxReloadProblems   = 16
	maxReloadProblemLen = 512
)

// reloadProblems returns the reasons a reload was refused as audit record
// fields: "problems" (how many), "problem_1" ... (each FILE:LINE: FIELD:
// MESSAGE, cut at maxReloadProblemLen bytes), at most maxReloadProblems of
// them and "problems_more" for the rest. Append escapes them.
func reloadProblems(err error) map[string]string {
	var lines []string
	var ce *configs.Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			lines = append(lines, p.String())
		}
	} else if err != nil {
		lines = strings.Split(err.Error(), "\n")
	}
	f := map[string]string{"problems": fmt.Sprint(len(lines))}
	for i, l := range lines {
		if i == maxReloadProblems {
			f["problems_more"] = fmt.Sprint(len(lines) - i)
			break
		}
		if len(l) > maxReloadProblemLen {
			l = l[:maxReloadProblemLen] + "…"
		}
		f[fmt.Sprintf("problem_%d", i+1)] = l
	}
	return f
}
