package strictjson

import "strings"

// closest returns the name in names most likely meant by key, or "" when
// none is close. Names are compared without case and without the
// separators people drop or swap ("checkonly", "check-only" and
// "CheckOnly" all mean "check_only"); a name within a few edits (one for
// short keys) or containing the key, or contained in it, counts as close.
// Ties go to the earlier name.
func closest(key string, names []string) string {
	k := squash(key)
	best, bestDist := "", -1
	for _, name := range names {
		n := squash(name)
		d := editDistance(k, n)
		if d > maxEdits(len(k)) && !(len(k) >= 4 && len(n) >= 4 && (strings.Contains(n, k) || strings.Contains(k, n))) {
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// maxEdits is how many edits still make a likely misspelling of a key of
// length n.
func maxEdits(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	case n <= 9:
		return 2
	default:
		return 3
	}
}

// squash lowercases s and drops '_', '-', '.' and spaces.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(s))
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
