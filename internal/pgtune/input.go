package pgtune

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Workload is PGTune's "DB type": what the database mostly does.
type Workload string

// Workloads PGTune knows.
const (
	WorkloadWeb     Workload = "web"     // web application: many short queries
	WorkloadOLTP    Workload = "oltp"    // online transaction processing: many writes
	WorkloadDW      Workload = "dw"      // data warehouse: few large analytical queries
	WorkloadDesktop Workload = "desktop" // developer machine: PostgreSQL shares it
	WorkloadMixed   Workload = "mixed"   // both transactions and analytics
)

// Storage is the kind of disk the data directory is on.
type Storage string

// Storage kinds PGTune knows.
const (
	StorageSSD  Storage = "ssd"
	StorageHDD  Storage = "hdd"
	StorageSAN  Storage = "san"
	StorageNVMe Storage = "nvme"
)

// DBSize is the size of the data compared with the host's memory.
type DBSize string

// Database size classes PGTune knows.
const (
	DBSizeLessRAM    DBSize = "less_ram"    // the data fits in memory
	DBSizeMidRAM     DBSize = "mid_ram"     // 1x to 3x memory
	DBSizeGreaterRAM DBSize = "greater_ram" // more than 3x memory
)

// OS is the database host's operating system; it changes a few PGTune caps.
type OS string

// Operating systems PGTune knows.
const (
	OSLinux   OS = "linux"
	OSWindows OS = "windows"
	OSMac     OS = "mac"
)

// Defaults of the recommender's inputs.
const (
	// DefaultWorkload is oltp: congressflow's database is write-heavy
	// (PGTune itself defaults to web).
	DefaultWorkload = WorkloadOLTP
	// DefaultStorage is PGTune's default.
	DefaultStorage = StorageSSD
	// DefaultDBSize is PGTune's default.
	DefaultDBSize = DBSizeMidRAM
	// DefaultOS is PGTune's default.
	DefaultOS = OSLinux
	// MinVersion and MaxVersion bound the PostgreSQL major versions the
	// formulas know (PGTune's range).
	MinVersion = 10
	MaxVersion = 18
	// MinMemoryBytes is the smallest database host memory a request may
	// give: 512MB, the minimum of PGTune's own form (MIN_MB_MEMORY in
	// configurationForm/validation.js). Below it the formulas produce
	// values PostgreSQL refuses, such as shared_buffers under 128kB.
	MinMemoryBytes = 512 << 20
	// MaxCPUs is the largest CPU count a request may give: PGTune sets
	// max_parallel_workers to the CPU count, and PostgreSQL refuses more
	// than 1024 (MAX_PARALLEL_WORKER_LIMIT). A larger host is tuned as a
	// 1024-CPU one.
	MaxCPUs = 1024
)

var (
	workloads = []Workload{WorkloadWeb, WorkloadOLTP, WorkloadDW, WorkloadDesktop, WorkloadMixed}
	storages  = []Storage{StorageSSD, StorageHDD, StorageSAN, StorageNVMe}
	dbSizes   = []DBSize{DBSizeLessRAM, DBSizeMidRAM, DBSizeGreaterRAM}
	osTypes   = []OS{OSLinux, OSWindows, OSMac}
)

// ErrInvalidInput marks errors caused by the caller's input; retrying
// cannot fix them. Every [FieldError] matches it with errors.Is.
var ErrInvalidInput = errors.New("invalid input")

// FieldError is a bad input field: its name (as it appears in JSON) and
// what is wrong with it and how to fix it.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Is makes every FieldError match [ErrInvalidInput].
func (e *FieldError) Is(target error) bool { return target == ErrInvalidInput }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Override is an explicit setting requested by the operator. It replaces
// the recommended value, or adds the setting when nothing recommends it.
type Override struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Request is what a person or a workflow asks for, in JSON-friendly form.
// The zero value is valid: every field has a default, and the hardware
// comes from the probe when the database is local.
type Request struct {
	// Workload is web, oltp, dw, desktop or mixed. Default oltp.
	Workload string `json:"workload,omitempty"`
	// Storage is ssd, hdd, san or nvme. Default ssd.
	Storage string `json:"storage,omitempty"`
	// DBSize is less_ram, mid_ram or greater_ram. Default mid_ram.
	DBSize string `json:"db_size,omitempty"`
	// OS of the database host: linux, windows or mac. Default linux.
	OS string `json:"os,omitempty"`
	// Memory of the database host, such as "32GB". Empty: probe it (only
	// when the database is local).
	Memory string `json:"memory,omitempty"`
	// CPUs of the database host. 0: probe them when the database is
	// local, else leave the parallel settings out.
	CPUs int `json:"cpus,omitempty"`
	// Force lets memory and cpus exceed what the probe found when the
	// database is local. Default false: such a request is refused, because
	// settings sized for memory the host does not have can keep the server
	// from starting (shared_buffers it cannot map).
	Force bool `json:"force,omitempty"`
	// MaxConnections to plan for. 0: PGTune's default for the workload.
	MaxConnections int `json:"max_connections,omitempty"`
	// PGVersion is the major version to tune for. 0: read it from the
	// server.
	PGVersion int `json:"pg_version,omitempty"`
	// SynchronousCommitOff opts in to synchronous_commit = off: commits
	// return before their WAL is flushed. Default false.
	SynchronousCommitOff bool `json:"synchronous_commit_off,omitempty"`
	// Overrides are explicit settings, validated against the allow-list.
	Overrides []Override `json:"overrides,omitempty"`
	// ExtensionProfile and ExtensionNames choose extensions whose
	// libraries must be preloaded; they are merged into
	// shared_preload_libraries. Empty: only pg_stat_statements.
	ExtensionProfile string   `json:"extension_profile,omitempty"`
	ExtensionNames   []string `json:"extension_names,omitempty"`
}

// Validate checks every field that can be checked without a server and
// returns all problems at once, each a [FieldError] naming its field.
func (r Request) Validate() error {
	var errs []error
	if r.Workload != "" && !slices.Contains(workloads, Workload(r.Workload)) {
		errs = append(errs, fieldErr("workload", "%q is not a workload; use one of %s", r.Workload, joinValues(workloads)))
	}
	if r.Storage != "" && !slices.Contains(storages, Storage(r.Storage)) {
		errs = append(errs, fieldErr("storage", "%q is not a storage kind; use one of %s", r.Storage, joinValues(storages)))
	}
	if r.DBSize != "" && !slices.Contains(dbSizes, DBSize(r.DBSize)) {
		errs = append(errs, fieldErr("db_size", "%q is not a size class; use one of %s", r.DBSize, joinValues(dbSizes)))
	}
	if r.OS != "" && !slices.Contains(osTypes, OS(r.OS)) {
		errs = append(errs, fieldErr("os", "%q is not an OS; use one of %s", r.OS, joinValues(osTypes)))
	}
	if r.Memory != "" {
		switch b, err := ParseSize(r.Memory); {
		case err != nil:
			errs = append(errs, fieldErr("memory", "%s (e.g. \"32GB\")", err))
		case b < MinMemoryBytes:
			errs = append(errs, fieldErr("memory", "%q is less than 512MB, the least PGTune tunes for; give the database host's memory, such as \"4GB\"", r.Memory))
		}
	}
	switch {
	case r.CPUs < 0:
		errs = append(errs, fieldErr("cpus", "%d must not be negative (0 means probe them)", r.CPUs))
	case r.CPUs > MaxCPUs:
		errs = append(errs, fieldErr("cpus", "%d is more than %d, the most parallel workers PostgreSQL allows (max_parallel_workers follows the CPU count); give %d for a larger host", r.CPUs, MaxCPUs, MaxCPUs))
	}
	if r.MaxConnections < 0 {
		errs = append(errs, fieldErr("max_connections", "%d must not be negative (0 means the workload's default)", r.MaxConnections))
	}
	if r.PGVersion != 0 && (r.PGVersion < MinVersion || r.PGVersion > MaxVersion) {
		errs = append(errs, fieldErr("pg_version", "%d is not supported; use %d to %d, or 0 to read it from the server", r.PGVersion, MinVersion, MaxVersion))
	}
	for i, o := range r.Overrides {
		if err := ValidateValue(o.Name, o.Value, r.PGVersion); err != nil {
			errs = append(errs, fieldErr(fmt.Sprintf("overrides[%d]", i), "%s", err))
		}
	}
	for i, n := range r.ExtensionNames {
		if strings.TrimSpace(n) == "" {
			errs = append(errs, fieldErr(fmt.Sprintf("extension_names[%d]", i), "empty name"))
		}
	}
	return errors.Join(errs...)
}

// Input is everything the recommender needs, all resolved: hardware,
// version and choices. Build it with [Request.Input].
type Input struct {
	// MemoryBytes is the database host's memory.
	MemoryBytes uint64 `json:"memory_bytes"`
	// CPUs of the database host; 0 when unknown (no parallel settings).
	CPUs int `json:"cpus"`
	// PGVersion is the PostgreSQL major version, 10 to 18.
	PGVersion int `json:"pg_version"`
	// OS of the database host.
	OS OS `json:"os"`
	// Workload, Storage and DBSize as in PGTune.
	Workload Workload `json:"workload"`
	Storage  Storage  `json:"storage"`
	DBSize   DBSize   `json:"db_size"`
	// MaxConnections; 0 means PGTune's default for the workload.
	MaxConnections int `json:"max_connections,omitempty"`
	// SynchronousCommitOff adds synchronous_commit = off.
	SynchronousCommitOff bool `json:"synchronous_commit_off,omitempty"`
	// PreloadLibraries must be in shared_preload_libraries (the extensions
	// stage's needs); pg_stat_statements is always added.
	PreloadLibraries []string `json:"preload_libraries,omitempty"`
}

// Input resolves the request into recommender input, given the host's
// memory and CPUs and the major version to tune for (the request's own
// values take precedence).
func (r Request) Input(memoryBytes uint64, cpus, version int, preload []string) Input {
	in := Input{
		MemoryBytes:          memoryBytes,
		CPUs:                 cpus,
		PGVersion:            version,
		OS:                   OS(r.OS),
		Workload:             Workload(r.Workload),
		Storage:              Storage(r.Storage),
		DBSize:               DBSize(r.DBSize),
		MaxConnections:       r.MaxConnections,
		SynchronousCommitOff: r.SynchronousCommitOff,
		PreloadLibraries:     preload,
	}
	if r.Memory != "" {
		in.MemoryBytes, _ = ParseSize(r.Memory)
	}
	if r.CPUs > 0 {
		in.CPUs = r.CPUs
	}
	if r.PGVersion != 0 {
		in.PGVersion = r.PGVersion
	}
	return in.WithDefaults()
}

// WithDefaults fills empty choices with their defaults.
func (in Input) WithDefaults() Input {
	if in.OS == "" {
		in.OS = DefaultOS
	}
	if in.Workload == "" {
		in.Workload = DefaultWorkload
	}
	if in.Storage == "" {
		in.Storage = DefaultStorage
	}
	if in.DBSize == "" {
		in.DBSize = DefaultDBSize
	}
	return in
}

// Validate checks a resolved input; its errors name the field.
func (in Input) Validate() error {
	var errs []error
	if in.MemoryBytes == 0 {
		errs = append(errs, fieldErr("memory", "unknown; set it (e.g. \"32GB\")"))
	}
	if in.CPUs < 0 {
		errs = append(errs, fieldErr("cpus", "%d must not be negative", in.CPUs))
	}
	if in.PGVersion < MinVersion || in.PGVersion > MaxVersion {
		errs = append(errs, fieldErr("pg_version", "%d is not supported; use %d to %d", in.PGVersion, MinVersion, MaxVersion))
	}
	if !slices.Contains(workloads, in.Workload) {
		errs = append(errs, fieldErr("workload", "%q is not a workload; use one of %s", in.Workload, joinValues(workloads)))
	}
	if !slices.Contains(storages, in.Storage) {
		errs = append(errs, fieldErr("storage", "%q is not a storage kind; use one of %s", in.Storage, joinValues(storages)))
	}
	if !slices.Contains(dbSizes, in.DBSize) {
		errs = append(errs, fieldErr("db_size", "%q is not a size class; use one of %s", in.DBSize, joinValues(dbSizes)))
	}
	if !slices.Contains(osTypes, in.OS) {
		errs = append(errs, fieldErr("os", "%q is not an OS; use one of %s", in.OS, joinValues(osTypes)))
	}
	if in.MaxConnections < 0 {
		errs = append(errs, fieldErr("max_connections", "%d must not be negative", in.MaxConnections))
	}
	for i, lib := range in.PreloadLibraries {
		if err := validateLibrary(lib); err != nil {
			errs = append(errs, fieldErr(fmt.Sprintf("preload_libraries[%d]", i), "%s", err))
		}
	}
	return errors.Join(errs...)
}

func joinValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
