package pgtune

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Memory sizes in kB, the unit PGTune computes in.
const (
	kBPerMB = 1024
	kBPerGB = 1024 * 1024
)

// Memory units in bytes (PostgreSQL's units are binary: 1kB = 1024 bytes).
var memoryUnits = map[string]float64{
	"B":  1,
	"kB": 1 << 10,
	"MB": 1 << 20,
	"GB": 1 << 30,
	"TB": 1 << 40,
}

// Time units in milliseconds.
var timeUnits = map[string]float64{
	"us":  0.001,
	"ms":  1,
	"s":   1000,
	"min": 60 * 1000,
	"h":   60 * 60 * 1000,
	"d":   24 * 60 * 60 * 1000,
}

// FormatKB formats a size in kB the way PGTune does: GB when it divides
// evenly, else MB when that divides evenly, else kB.
func FormatKB(kb uint64) string {
	switch {
	case kb%kBPerGB == 0:
		return strconv.FormatUint(kb/kBPerGB, 10) + "GB"
	case kb%kBPerMB == 0:
		return strconv.FormatUint(kb/kBPerMB, 10) + "MB"
	default:
		return strconv.FormatUint(kb, 10) + "kB"
	}
}

// FormatBytes formats a byte count for people: the largest binary unit,
// truncated to at most two decimals ("23.46GB", "512MB").
func FormatBytes(b uint64) string {
	for _, u := range []struct {
		name string
		size uint64
	}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}} {
		if b >= u.size {
			v := math.Floor(float64(b)/float64(u.size)*100) / 100
			return strconv.FormatFloat(v, 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatUint(b, 10) + "B"
}

var sizePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

// ParseSize parses a memory size given by a person, such as "32GB",
// "512MB", "1.5TB", "16GiB" or "2048kB". Units are binary, as in
// PostgreSQL; a bare number is bytes.
func ParseSize(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		return 0, errors.New("must be positive")
	}
	m := sizePattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size; write a number and a unit such as 32GB or 512MB", s)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	var mult float64
	switch strings.ToLower(m[2]) {
	case "", "b":
		mult = 1
	case "k", "kb", "kib":
		mult = 1 << 10
	case "m", "mb", "mib":
		mult = 1 << 20
	case "g", "gb", "gib":
		mult = 1 << 30
	case "t", "tb", "tib":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("%q: unknown unit %q; use kB, MB, GB or TB", s, m[2])
	}
	v := n * mult
	if v < 1 || v > math.MaxUint64/2 {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return uint64(v), nil
}

var valuePattern = regexp.MustCompile(`^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$`)

// parseQuantity turns a numeric setting value into a number in the base of
// its kind: bytes for memory, milliseconds for time, the plain number
// otherwise. A value without a unit is in gucUnit, the unit pg_settings
// reports for the setting ("8kB", "kB", "B", "ms", "s", "min", or "").
func parseQuantity(value string, k kind, gucUnit string) (float64, error) {
	m := valuePattern.FindStringSubmatch(value)
	if m == nil {
		return 0, fmt.Errorf("%q is not a number", value)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number: %w", value, err)
	}
	if n == -1 {
		// -1 means "use the default/disabled" for every setting we know;
		// it is compared as a plain number.
		return -1, nil
	}
	unit := m[2]
	switch k {
	case kindMemory:
		if unit == "" {
			return n * unitMultiplier(gucUnit, memoryUnits), nil
		}
		mult, ok := memoryUnits[unit]
		if !ok {
			return 0, fmt.Errorf("%q: unknown memory unit %q (valid: B, kB, MB, GB, TB)", value, unit)
		}
		return n * mult, nil
	case kindTime:
		if unit == "" {
			return n * unitMultiplier(gucUnit, timeUnits), nil
		}
		mult, ok := timeUnits[unit]
		if !ok {
			return 0, fmt.Errorf("%q: unknown time unit %q (valid: us, ms, s, min, h, d)", value, unit)
		}
		return n * mult, nil
	default:
		if unit != "" {
			return 0, fmt.Errorf("%q: this setting takes no unit", value)
		}
		return n, nil
	}
}

// inUnit turns a numeric setting value into a number in gucUnit, the unit
// pg_settings reports for the setting ("25kB" in "8kB" is 3.125); -1
// stays -1.
func inUnit(value string, k kind, gucUnit string) (float64, error) {
	q, err := parseQuantity(value, k, gucUnit)
	if err != nil || q == -1 {
		return q, err
	}
	switch k {
	case kindMemory:
		return q / unitMultiplier(gucUnit, memoryUnits), nil
	case kindTime:
		return q / unitMultiplier(gucUnit, timeUnits), nil
	default:
		return q, nil
	}
}

// unitMultiplier reads a pg_settings unit such as "8kB" or "s": an optional
// count and a unit name from table. An empty or unknown unit counts as 1.
func unitMultiplier(gucUnit string, table map[string]float64) float64 {
	i := 0
	for i < len(gucUnit) && gucUnit[i] >= '0' && gucUnit[i] <= '9' {
		i++
	}
	count := 1.0
	if i > 0 {
		count, _ = strconv.ParseFloat(gucUnit[:i], 64)
	}
	mult, ok := table[gucUnit[i:]]
	if !ok {
		return count
	}
	return count * mult
}

// unitOf returns the unit suffix of a formatted value ("8GB" → "GB",
// "15min" → "min", "0.9" → "").
func unitOf(value string) string {
	m := valuePattern.FindStringSubmatch(value)
	if m == nil {
		return ""
	}
	return m[2]
}
