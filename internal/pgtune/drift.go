package pgtune

import (
	"slices"
	"strings"
)

// AppliedSetting is the value a tune run applied to a setting: for each
// setting, the last run that changed it and did not revert it.
type AppliedSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	RunID string `json:"run_id"`
}

// Drifted is a setting whose running value is no longer what tuning
// applied: an operator, another tool or a configuration file changed it
// since.
type Drifted struct {
	Name string `json:"name"`
	// Applied is what the tune run set; Running what the server runs now
	// (as SHOW prints it), and Source where that value comes from
	// (pg_settings.source).
	Applied string `json:"applied"`
	Running string `json:"running"`
	Source  string `json:"source,omitempty"`
	RunID   string `json:"run_id"`
}

// Drift compares what tuning applied with the server's state (read with
// [ReadState] for at least the applied names): a setting whose running
// value differs beyond [Tolerance] has drifted. A setting that waits for a
// restart has not drifted (it is pending), nor has the setting of a
// library not loaded yet.
func Drift(applied []AppliedSetting, st ServerState) []Drifted {
	var out []Drifted
	for _, a := range applied {
		cur, ok := st.Settings[a.Name]
		switch {
		case !ok:
			out = append(out, Drifted{Name: a.Name, Applied: a.Value, Running: "(unknown to the server)", RunID: a.RunID})
			continue
		case cur.PendingRestart, cur.Placeholder:
			continue
		}
		same := strings.EqualFold(strings.TrimSpace(a.Value), strings.TrimSpace(cur.Display))
		if sp, known := allowList[a.Name]; known && !same {
			var err error
			if same, err = sameValue(sp, a.Value, cur.Setting, cur.Unit); err != nil {
				same = false
			}
		}
		if !same {
			out = append(out, Drifted{Name: a.Name, Applied: a.Value, Running: cur.Display, Source: cur.Source, RunID: a.RunID})
		}
	}
	slices.SortFunc(out, func(x, y Drifted) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// Allowed reports whether name is an allow-listed setting: one whose
// values the tune stage sets and a report may show (no connection strings
// or other secrets among them).
func Allowed(name string) bool {
	_, ok := allowList[name]
	return ok
}
