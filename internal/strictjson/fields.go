package strictjson

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// field is a JSON field of a struct type, found as encoding/json finds it.
type field struct {
	name   string
	tagged bool
	index  []int
	typ    reflect.Type
	// quoted is the ",string" option on a field that takes it.
	quoted bool
	// unsettable marks a field reached through an embedded pointer to an
	// unexported struct type: encoding/json refuses to set it.
	unsettable bool
}

// structFields returns the JSON fields of struct type t in field order,
// following encoding/json's rules: exported fields (and embedded structs,
// exported or not) by tag or name; "-" skipped; fields of untagged embedded
// structs promoted, the shallowest (then the tagged) one winning a name,
// and a name still ambiguous after that belonging to no field.
func structFields(t reflect.Type) []field {
	type queued struct {
		typ        reflect.Type
		index      []int
		unsettable bool
	}
	var fields []field
	next := []queued{{typ: t}}
	visited := map[reflect.Type]bool{}
	// count is how often each type was reached at the current depth.
	var count, nextCount map[reflect.Type]int
	for len(next) > 0 {
		current := next
		next = nil
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := range q.typ.NumField() {
				sf := q.typ.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := append(slices.Clone(q.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{
						name: cmp.Or(name, sf.Name), tagged: name != "", index: index, typ: sf.Type,
						quoted: hasOption(opts, "string") && quotable(ft), unsettable: q.unsettable,
					}
					fields = append(fields, f)
					if count[q.typ] > 1 {
						// Reached twice at this depth: make the name ambiguous.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					unsettable := q.unsettable || (sf.Type.Kind() == reflect.Pointer && !sf.IsExported())
					next = append(next, queued{typ: ft, index: index, unsettable: unsettable})
				}
			}
		}
	}

	// For each name keep the dominant field: shallowest, then tagged; a tie
	// drops the name.
	slices.SortStableFunc(fields, func(a, b field) int {
		return cmp.Or(strings.Compare(a.name, b.name), cmp.Compare(len(a.index), len(b.index)), boolOrder(a.tagged, b.tagged))
	})
	var out []field
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		i = j
		if len(group) > 1 && len(group[0].index) == len(group[1].index) && group[0].tagged == group[1].tagged {
			continue
		}
		out = append(out, group[0])
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

// lookup finds the field a key sets: the exact name, else the first field
// whose name equals the key but for case, as encoding/json matches.
func lookup(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	folded := foldName(key)
	for _, f := range fields {
		if foldName(f.name) == folded {
			return f, true
		}
	}
	return field{}, false
}

// foldName folds case as encoding/json does: foldName(a) == foldName(b)
// exactly when bytes.EqualFold(a, b).
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune returns the smallest rune of r's case-folding orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	default:
		return 1
	}
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// quotable reports whether ",string" applies to the type.
func quotable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// validTag is encoding/json's rule for a usable tag name.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
