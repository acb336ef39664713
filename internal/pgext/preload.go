package pgext

import (
	"path"
	"slices"
	"strings"
)

// ParsePreloadList splits a shared_preload_libraries value as the server
// reports it ("pg_stat_statements, \"pg_cron\"") into library names, with
// quotes, a "$libdir/" prefix and a ".so" suffix removed so that names
// compare with [Extension.Preload].
func ParsePreloadList(setting string) []string {
	var libs []string
	for _, item := range splitList(setting) {
		if lib := LibraryName(item); lib != "" {
			libs = append(libs, lib)
		}
	}
	return libs
}

// LibraryName normalises one shared_preload_libraries entry to the bare
// library name: "$libdir/pg_cron.so" → "pg_cron". The name has no
// surrounding blanks and no ".so" suffix, so the entry written as a quoted
// identifier normalises to the same name again.
func LibraryName(entry string) string {
	s := strings.TrimSpace(entry)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	s = path.Base(strings.TrimSpace(s))
	for {
		t := strings.TrimSpace(strings.TrimSuffix(s, ".so"))
		if t == s {
			break
		}
		s = t
	}
	if s == "." || s == "/" {
		return ""
	}
	return s
}

// MergePreload returns existing followed by the libraries of add that it
// does not already list. Entries of existing are kept as they are, even in
// a form such as "$libdir/pg_cron"; nothing is ever dropped.
func MergePreload(existing, add []string) []string {
	out := slices.Clone(existing)
	have := make(map[string]bool, len(existing))
	for _, e := range existing {
		have[LibraryName(e)] = true
	}
	for _, a := range add {
		if n := LibraryName(a); n != "" && !have[n] {
			have[n] = true
			out = append(out, a)
		}
	}
	return out
}

// splitList splits a list GUC on commas outside double quotes. It works
// on bytes, so that text that is not valid UTF-8 passes through unchanged.
func splitList(s string) []string {
	var items []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
			cur.WriteByte(c)
		case c == ',' && !quoted:
			items = append(items, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		items = append(items, cur.String())
	}
	return items
}
