package pgext

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Category groups extensions by what they are for.
type Category string

// Categories used by the default catalog.
const (
	CategoryMonitoring    Category = "monitoring"
	CategoryInspection    Category = "inspection"
	CategoryMaintenance   Category = "maintenance"
	CategoryIntegrity     Category = "integrity"
	CategoryPartitioning  Category = "partitioning"
	CategoryScheduling    Category = "scheduling"
	CategoryDataTypes     Category = "data types"
	CategoryIndexing      Category = "indexing"
	CategoryTextSearch    Category = "text search"
	CategoryCrypto        Category = "crypto"
	CategorySecurity      Category = "security"
	CategoryAuditing      Category = "auditing"
	CategoryLanguages     Category = "languages"
	CategoryReplication   Category = "replication"
	CategoryFDW           Category = "fdw"
	CategoryGIS           Category = "gis"
	CategoryPlanning      Category = "planning"
	CategorySampling      Category = "sampling"
	CategoryTriggers      Category = "triggers"
	CategoryUtility       Category = "utility"
	CategoryCompatibility Category = "compatibility"
	CategoryVectors       Category = "vectors"
	CategoryTimeSeries    Category = "time series"
	CategoryTesting       Category = "testing"
)

// Package values with a special meaning in [Extension.Package].
const (
	// PackageContrib marks an extension shipped with the server's contrib
	// modules; on Debian they are part of postgresql-{major}.
	PackageContrib = "contrib"
	// PackageBuiltin marks an extension installed in every database
	// (plpgsql).
	PackageBuiltin = "builtin"
	// MajorPlaceholder is replaced by the server's major version in
	// package patterns such as "postgresql-{major}-cron".
	MajorPlaceholder = "{major}"
)

// Repositories an extension's package comes from.
const (
	// RepoDebian is Debian's own archive (main).
	RepoDebian = "debian"
	// RepoPGDG is apt.postgresql.org, for packages Debian does not carry.
	RepoPGDG = "pgdg"
	// RepoTimescale is Timescale's own package repository.
	RepoTimescale = "timescale"
)

// Extension is one catalog entry.
type Extension struct {
	// Name is the extension's name as CREATE EXTENSION takes it.
	Name string `json:"name"`
	// Category says what it is for.
	Category Category `json:"category"`
	// Package is the Debian package providing it: a pattern such as
	// "postgresql-{major}-cron", or [PackageContrib], or [PackageBuiltin].
	// [Extension.PackageFor] renders it for a major version.
	Package string `json:"package"`
	// Repository is where Package comes from: [RepoDebian] (the default
	// when empty), [RepoPGDG] or [RepoTimescale].
	Repository string `json:"repository,omitempty"`
	// Preload is the library that must be in shared_preload_libraries
	// before the extension works, or "" when none is needed.
	Preload string `json:"preload,omitempty"`
	// Trusted reports whether its control file says trusted = true, so that
	// a role with CREATE on the database may create it without being
	// superuser. The installer goes by what the server reports; this field
	// documents the packaged default.
	Trusted bool `json:"trusted"`
	// Requires lists the extensions it depends on; CREATE EXTENSION ...
	// CASCADE creates them. They precede it in the catalog.
	Requires []string `json:"requires,omitempty"`
	// MinVersion is the first PostgreSQL major version that has it; 0 means
	// no lower bound.
	MinVersion int `json:"min_version,omitempty"`
	// MaxVersion is the last PostgreSQL major version that has it; 0 means
	// no upper bound.
	MaxVersion int `json:"max_version,omitempty"`
	// Note is a short remark for operators (optional preload, server
	// settings it wants).
	Note string `json:"note,omitempty"`
}

// PackageFor returns the Debian package that provides the extension for
// PostgreSQL major version major: contrib and built-in extensions come with
// the server package postgresql-{major}. A major of 0 leaves the placeholder
// in place.
func (e Extension) PackageFor(major int) string {
	p := e.Package
	if p == PackageContrib || p == PackageBuiltin {
		p = "postgresql-" + MajorPlaceholder
	}
	if major <= 0 {
		return p
	}
	return strings.ReplaceAll(p, MajorPlaceholder, strconv.Itoa(major))
}

// SupportsVersion reports whether PostgreSQL major version major has the
// extension. A major of 0 (unknown) supports everything.
func (e Extension) SupportsVersion(major int) bool {
	if major <= 0 {
		return true
	}
	return (e.MinVersion == 0 || major >= e.MinVersion) && (e.MaxVersion == 0 || major <= e.MaxVersion)
}

// versionNote explains why major lacks the extension, or "" when it has it.
func (e Extension) versionNote(major int) string {
	switch {
	case e.SupportsVersion(major):
		return ""
	case e.MinVersion > 0 && major < e.MinVersion:
		return fmt.Sprintf("%s needs PostgreSQL %d or later (server is %d)", e.Name, e.MinVersion, major)
	default:
		return fmt.Sprintf("%s was removed after PostgreSQL %d (server is %d)", e.Name, e.MaxVersion, major)
	}
}

// Profile names accepted by [Catalog.Resolve].
const (
	// ProfileRecommended is monitoring, text search and utility types for
	// an ingest database. It is what an empty profile without names means.
	ProfileRecommended = "recommended"
	// ProfileAll is every catalog extension the server version has.
	ProfileAll = "all"
)

// RequestError reports a bad profile or extension name. It is the caller's
// mistake: retrying does not help.
type RequestError struct {
	// Field is the input field at fault ("profile", "names").
	Field string
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (e *RequestError) Error() string { return e.Field + ": " + e.Msg }

// Catalog is an ordered set of extensions and the recommended profile. The
// zero Catalog is the default catalog ([Default]). A Catalog is read-only
// and safe for concurrent use.
type Catalog struct {
	exts        []Extension
	index       map[string]int
	recommended []string
}

// Default returns the built-in catalog.
func Default() Catalog {
	c, err := New(defaultExtensions(), defaultRecommended())
	if err != nil {
		// The built-in table is checked by the package tests.
		panic("pgext: default catalog: " + err.Error())
	}
	return c
}

// New builds a catalog from exts, in that order, with recommended as the
// recommended profile. It checks that names are unique, that every entry
// has a category and a package, and that requirements precede their
// dependents.
func New(exts []Extension, recommended []string) (Catalog, error) {
	c := Catalog{exts: slices.Clone(exts), index: make(map[string]int, len(exts)), recommended: slices.Clone(recommended)}
	for i, e := range c.exts {
		if e.Name == "" {
			return Catalog{}, fmt.Errorf("catalog entry %d: empty name", i)
		}
		if _, dup := c.index[e.Name]; dup {
			return Catalog{}, fmt.Errorf("catalog entry %q: listed twice", e.Name)
		}
		if e.Category == "" || e.Package == "" {
			return Catalog{}, fmt.Errorf("catalog entry %q: category and package are required", e.Name)
		}
		for _, r := range e.Requires {
			if _, ok := c.index[r]; !ok {
				return Catalog{}, fmt.Errorf("catalog entry %q: requirement %q must be listed before it", e.Name, r)
			}
		}
		c.index[e.Name] = i
	}
	for _, n := range c.recommended {
		if _, ok := c.index[n]; !ok {
			return Catalog{}, fmt.Errorf("recommended profile: %q is not in the catalog", n)
		}
	}
	slices.SortFunc(c.recommended, func(a, b string) int { return c.index[a] - c.index[b] })
	c.recommended = slices.Compact(c.recommended)
	return c, nil
}

func (c Catalog) orDefault() Catalog {
	if c.index == nil {
		return Default()
	}
	return c
}

// Extensions returns every entry in catalog order.
func (c Catalog) Extensions() []Extension {
	c = c.orDefault()
	return slices.Clone(c.exts)
}

// Lookup returns the entry called name.
func (c Catalog) Lookup(name string) (Extension, bool) {
	c = c.orDefault()
	i, ok := c.index[name]
	if !ok {
		return Extension{}, false
	}
	return c.exts[i], true
}

// Recommended returns the names in the recommended profile, in catalog
// order.
func (c Catalog) Recommended() []string {
	c = c.orDefault()
	return slices.Clone(c.recommended)
}

// Resolve turns a profile and explicit names into the extensions to
// install, in catalog order, each once, with the extensions they require
// added.
//
// profile is "recommended", "all" or "". An empty profile means
// "recommended" when names is empty and "only these names" otherwise. Names
// must be catalog entries; an unknown one is a [*RequestError] naming it.
// pgMajor is the server's major version: the all profile leaves out what
// the version lacks (pg_walinspect before 15, adminpack from 17), while the
// recommended profile's members and names asked for explicitly stay in so
// the installer can say why they are not available. A pgMajor of 0 filters
// nothing.
func (c Catalog) Resolve(profile string, names []string, pgMajor int) ([]Extension, error) {
	c = c.orDefault()
	want := make([]bool, len(c.exts))
	switch strings.ToLower(strings.TrimSpace(profile)) {
	case "":
		if len(names) == 0 {
			c.markProfile(want, c.recommended)
		}
	case ProfileRecommended:
		c.markProfile(want, c.recommended)
	case ProfileAll:
		for i, e := range c.exts {
			want[i] = e.SupportsVersion(pgMajor)
		}
	default:
		return nil, &RequestError{Field: "profile", Msg: fmt.Sprintf("unknown profile %q (use %q, %q, or leave it empty and give names)",
			profile, ProfileRecommended, ProfileAll)}
	}
	var unknown []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		i, ok := c.index[n]
		if !ok {
			i, ok = c.index[strings.ToLower(n)]
		}
		if !ok {
			unknown = append(unknown, strconv.Quote(n))
			continue
		}
		want[i] = true
	}
	if len(unknown) > 0 {
		return nil, &RequestError{Field: "names", Msg: fmt.Sprintf("unknown extension %s (list the catalog with `starter extensions --catalog`)",
			strings.Join(unknown, ", "))}
	}
	// Requirements precede dependents, so one backward pass closes the set.
	for i := len(c.exts) - 1; i >= 0; i-- {
		if want[i] {
			for _, r := range c.exts[i].Requires {
				want[c.index[r]] = true
			}
		}
	}
	var out []Extension
	for i, e := range c.exts {
		if want[i] {
			out = append(out, e)
		}
	}
	return out, nil
}

func (c Catalog) markProfile(want []bool, names []string) {
	for _, n := range names {
		want[c.index[n]] = true
	}
}

// PreloadLibraries returns the shared_preload_libraries entries that the
// extensions selected by profile and names (see [Catalog.Resolve]) need, in
// catalog order, each once. The tune stage merges them with what the server
// already lists, keeping only libraries present in the server's pkglibdir.
func (c Catalog) PreloadLibraries(profile string, names []string) ([]string, error) {
	exts, err := c.Resolve(profile, names, 0)
	if err != nil {
		return nil, err
	}
	var libs []string
	for _, e := range exts {
		if e.Preload != "" && !slices.Contains(libs, e.Preload) {
			libs = append(libs, e.Preload)
		}
	}
	return libs, nil
}
