package pgtune

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// pgMemoryValue is what PostgreSQL accepts for a memory setting: an
// integer or a decimal number and one of its units, spelled as it spells
// them (the unit is case-sensitive).
var pgMemoryValue = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]+)?(B|kB|MB|GB|TB)$`)

// FuzzFormatKB checks that FormatKB writes an integer in kB, MB or GB,
// in the largest of them that divides the size evenly, and that the value
// reads back, as a setting and as a size, to the same number of kB.
func FuzzFormatKB(f *testing.F) {
	for _, kb := range []uint64{0, 1, 32, 1023, 1024, 1025, 27235, 2096128, kBPerGB, 268435456, 1 << 43, 1<<53 - 1, 1 << 53, math.MaxUint64} {
		f.Add(kb)
	}
	f.Fuzz(func(t *testing.T, kb uint64) {
		s := FormatKB(kb)
		m := pgMemoryValue.FindStringSubmatch(s)
		require.NotNil(t, m, "FormatKB(%d) = %q", kb, s)
		require.Empty(t, m[2], "FormatKB(%d) = %q has decimals", kb, s)
		unit := m[3]
		require.Contains(t, []string{"kB", "MB", "GB"}, unit, "FormatKB(%d) = %q", kb, s)
		n, ok := new(big.Int).SetString(m[1], 10)
		require.True(t, ok)
		back := new(big.Int).Mul(n, big.NewInt(int64(memoryUnits[unit]/memoryUnits["kB"])))
		require.Equal(t, new(big.Int).SetUint64(kb).String(), back.String(), "FormatKB(%d) = %q", kb, s)
		if unit != "GB" && kb != 0 {
			require.NotZero(t, new(big.Int).Mod(n, big.NewInt(1024)).Sign(), "FormatKB(%d) = %q: a larger unit divides it", kb, s)
		}

		if kb >= 1<<53 {
			return // beyond what a float64 holds exactly
		}
		got, err := inUnit(s, kindMemory, "kB")
		require.NoError(t, err, s)
		require.Equal(t, float64(kb), got, s)
		got, err = inUnit(s, kindMemory, "8kB")
		require.NoError(t, err, s)
		require.Equal(t, float64(kb)/8, got, s)
		if kb > 0 {
			b, err := ParseSize(s)
			require.NoError(t, err, s)
			require.Equal(t, kb*1024, b, s)
		}
	})
}

// FuzzFormatBytes checks that FormatBytes writes a number with at most two
// decimals in a unit PostgreSQL reads, the largest not above the size,
// truncated (never more than the size, less by under 0.01 of the unit);
// ParseSize reads it back to the same value.
func FuzzFormatBytes(f *testing.F) {
	for _, b := range []uint64{0, 1, 3, 1023, 1024, 1025, 512 << 20, 25200000000, 1<<40 - 1, 1 << 40, 1<<53 + 1, math.MaxUint64} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b uint64) {
		s := FormatBytes(b)
		m := pgMemoryValue.FindStringSubmatch(s)
		require.NotNil(t, m, "FormatBytes(%d) = %q", b, s)
		require.LessOrEqual(t, len(m[2]), 3, "FormatBytes(%d) = %q: more than two decimals", b, s)
		size := uint64(memoryUnits[m[3]])
		if m[3] != "B" {
			require.GreaterOrEqual(t, b, size, "FormatBytes(%d) = %q: a smaller unit is due", b, s)
		}
		if m[3] != "TB" {
			require.Less(t, b, size*1024, "FormatBytes(%d) = %q: a larger unit fits", b, s)
		}
		if m[3] == "B" {
			require.Equal(t, strconv.FormatUint(b, 10)+"B", s)
		}

		q, err := parseQuantity(s, kindMemory, "")
		require.NoError(t, err, s)
		exact := float64(b) // within 2^-53 of b
		require.LessOrEqual(t, q, exact*(1+0x1p-50), "FormatBytes(%d) = %q rounds up", b, s)
		require.Greater(t, q, exact*(1-0x1p-50)-float64(size)/100, "FormatBytes(%d) = %q drops too much", b, s)

		if b > 0 && b <= 1<<62 {
			back, err := ParseSize(s)
			require.NoError(t, err, s)
			require.InDelta(t, q, float64(back), 1+q*0x1p-50, s)
		}
	})
}

// sizeUnits are the units ParseSize reads, lower-cased, in bytes: a
// letter with an optional "b", "ib" or nothing, binary in every spelling.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

var sizeSyntax = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)[ \t\n\f\r]*([A-Za-z]*)$`)

// FuzzParseSize checks ParseSize against exact arithmetic: it never
// panics, refuses negatives, unknown units and sizes below one byte or
// above 2^63 bytes instead of wrapping, and otherwise returns the size to
// within float64 precision.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{
		"32GB", "512MB", "1.5TB", "16GiB", "2048kB", "2 GB", "1073741824", "-1GB", "12XB", "GB", "0GB", "0.5",
		"0.0009765625kB", "8388608TB", "8388607.99TB", "18446744073709551616", "9223372036854775808", "1e3",
		" 7 mib ", "1..5GB", "１GB", "7\u00a0GB", "99999999999999999999999999999999999999TB", "1.",
	} {
		f.Add(s)
	}
	two63 := new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), 63))
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSize(s)
		trimmed := strings.TrimSpace(s)
		if strings.HasPrefix(trimmed, "-") {
			require.Error(t, err, "%q", s)
			return
		}
		m := sizeSyntax.FindStringSubmatch(trimmed)
		mult, known := int64(0), false
		if m != nil {
			mult, known = sizeUnits[strings.ToLower(m[2])]
		}
		if !known {
			require.Error(t, err, "%q parsed to %d", s, got)
			return
		}
		exact, ok := new(big.Rat).SetString(m[1])
		require.True(t, ok, m[1])
		exact.Mul(exact, new(big.Rat).SetInt64(mult))
		// Near the bounds float64 rounding may go either way.
		low := new(big.Rat).SetFloat64(1 - 0x1p-50)
		high := new(big.Rat).Mul(two63, new(big.Rat).SetFloat64(1-0x1p-50))
		if exact.Cmp(low) < 0 || exact.Cmp(new(big.Rat).Mul(two63, new(big.Rat).SetFloat64(1+0x1p-50))) > 0 {
			require.Error(t, err, "%q is out of range but parsed to %d", s, got)
			return
		}
		if exact.Cmp(new(big.Rat).SetFloat64(1+0x1p-50)) < 0 || exact.Cmp(high) > 0 {
			return
		}
		require.NoError(t, err, "%q", s)
		want, _ := exact.Float64()
		require.InDelta(t, want, float64(got), 1+want*0x1p-50, "%q", s)
	})
}
