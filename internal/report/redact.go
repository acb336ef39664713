package report

import (
	"strings"
	"unicode/utf8"
)

// maxQueryLen bounds a query text kept in a report.
const maxQueryLen = 300

// CleanQuery makes a statement's text fit for a report: string literals
// ('…', E'…', $tag$…$tag$) become '?' so that no password or other value
// set in a statement (ALTER ROLE … PASSWORD, which pg_stat_activity shows
// as sent and pg_stat_statements keeps for utility statements before
// PostgreSQL 16) is shown; whitespace runs become one space; the text is
// cut at 300 characters.
func CleanQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'':
			i = skipQuoted(q, i)
			b.WriteString("'?'")
			continue
		case (c == 'E' || c == 'e') && i+1 < len(q) && q[i+1] == '\'' && !identChar(q, i-1):
			i = skipQuoted(q, i+1)
			b.WriteString("'?'")
			continue
		case c == '$':
			if tag, ok := dollarTag(q, i); ok {
				end := strings.Index(q[i+len(tag):], tag)
				if end < 0 {
					i = len(q)
				} else {
					i += len(tag) + end + len(tag)
				}
				b.WriteString("'?'")
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if utf8.RuneCountInString(s) > maxQueryLen {
		r := []rune(s)
		s = string(r[:maxQueryLen-1]) + "…"
	}
	return s
}

// skipQuoted returns the index after the quoted literal opening at i
// (doubled quotes and, in E” strings, backslash escapes stay inside).
func skipQuoted(q string, i int) int {
	escapes := i > 0 && (q[i-1] == 'E' || q[i-1] == 'e')
	for j := i + 1; j < len(q); j++ {
		switch {
		case escapes && q[j] == '\\':
			j++
		case q[j] == '\'' && j+1 < len(q) && q[j+1] == '\'':
			j++
		case q[j] == '\'':
			return j + 1
		}
	}
	return len(q)
}

// dollarTag returns the dollar-quote tag ($$ or $name$) opening at i. A
// parameter such as $1 is not one.
func dollarTag(q string, i int) (string, bool) {
	if identChar(q, i-1) {
		return "", false
	}
	for j := i + 1; j < len(q); j++ {
		c := q[j]
		switch {
		case c == '$':
			return q[i : j+1], true
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && j > i+1:
		default:
			return "", false
		}
	}
	return "", false
}

// identChar reports whether q[i] is part of an identifier.
func identChar(q string, i int) bool {
	if i < 0 || i >= len(q) {
		return false
	}
	c := q[i]
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
