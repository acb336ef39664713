package pgtune

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Context says what makes a changed setting take effect.
type Context string

// Contexts of a setting, simplified from pg_settings.context: postmaster
// settings need a restart, every other one a reload.
const (
	ContextReload  Context = "reload"
	ContextRestart Context = "restart"
)

// Source says where a recommended value comes from.
type Source string

// Sources of a setting.
const (
	SourcePGTune   Source = "pgtune"   // PGTune's formulas
	SourceIngest   Source = "ingest"   // added for a write-heavy ingest database
	SourceOverride Source = "override" // set explicitly in the input
)

// Setting is one recommended setting.
type Setting struct {
	// Name is the GUC name.
	Name string `json:"name"`
	// Value is in PostgreSQL's own format, with its unit ("8GB", "15min",
	// "0.9", "lz4"). A list is "a, b".
	Value string `json:"value"`
	// Unit is the unit Value is written in ("GB", "min", "B"), empty for
	// unitless values.
	Unit string `json:"unit"`
	// Context is what the change needs to take effect.
	Context Context `json:"context"`
	// Reason is one line saying why, with its source.
	Reason string `json:"reason"`
	// Source says which rule set produced the value.
	Source Source `json:"source"`
	// Field names the input field that set the value, such as
	// "overrides[2]"; empty for a recommended value.
	Field string `json:"field,omitempty"`
}

// Recommendation is the recommender's output.
type Recommendation struct {
	// Input is the resolved input the settings were computed from.
	Input Input `json:"input"`
	// Settings in order: PGTune's, then the ingest additions, then
	// overrides that add a setting.
	Settings []Setting `json:"settings"`
	// Warnings are PGTune's warnings for this input.
	Warnings []string `json:"warnings,omitempty"`
}

// Get returns the named setting.
func (r Recommendation) Get(name string) (Setting, bool) {
	i := slices.IndexFunc(r.Settings, func(s Setting) bool { return s.Name == name })
	if i < 0 {
		return Setting{}, false
	}
	return r.Settings[i], true
}

// PGTune's constants, in kB where they are sizes.
const (
	// hugePagesThresholdKB: shared_buffers from 2GB on benefit from huge
	// pages.
	hugePagesThresholdKB = 2 * kBPerGB
	// maintenanceWorkMemCapKB caps maintenance_work_mem (8GB); Windows up
	// to PG 17 cannot go past 2GB - 1MB.
	maintenanceWorkMemCapKB = 8 * kBPerGB
	windowsCapKB            = 2 * kBPerGB
	windowsLimitKB          = 2*kBPerGB - kBPerMB
	// walBuffersMaxKB is wal_buffers' auto-tuning ceiling (16MB); values
	// above walBuffersNearKB round up to it; walBuffersMinKB is the floor.
	walBuffersMaxKB  = 16 * kBPerMB
	walBuffersNearKB = 14 * kBPerMB
	walBuffersMinKB  = 32
	// workMemMinKB is PGTune's 4MB floor for work_mem.
	workMemMinKB = 4 * kBPerMB
	// defaultMaxWorkerProcesses is PostgreSQL's default, used for work_mem
	// when PGTune emits no parallel settings.
	defaultMaxWorkerProcesses = 8
	// autovacuumWorkMemCapKB caps vacuum memory per worker (2GB).
	autovacuumWorkMemCapKB = 2 * kBPerGB
	// parallelMinCPUs: fewer CPUs get no parallel settings.
	parallelMinCPUs = 4
	// parallelPerGatherCap caps workers per gather (and parallel
	// maintenance workers) except for dw.
	parallelPerGatherCap = 4
)

// Recommend computes the settings for in: PGTune's (2026 formulas), then
// those for a write-heavy ingest database. It does no I/O.
func Recommend(in Input) (Recommendation, error) {
	in = in.WithDefaults()
	if err := in.Validate(); err != nil {
		return Recommendation{}, err
	}
	core, warnings := pgtune(in)
	settings := core
	for _, s := range ingest(in) {
		if !slices.ContainsFunc(settings, func(c Setting) bool { return c.Name == s.Name }) {
			settings = append(settings, s)
		}
	}
	for i := range settings {
		settings[i] = finish(settings[i], in.PGVersion)
	}
	return Recommendation{Input: in, Settings: settings, Warnings: warnings}, nil
}

// finish fills a setting's unit and context from the allow-list.
func finish(s Setting, version int) Setting {
	sp := allowList[s.Name]
	s.Unit = unitOf(s.Value)
	if s.Unit == "" && (sp.kind == kindMemory || sp.kind == kindTime) {
		s.Unit = sp.unit
	}
	s.Context = sp.contextFor(version)
	return s
}

// pgtune reproduces PGTune's configurationSlice.js and its output order.
func pgtune(in Input) ([]Setting, []string) {
	ramKB := float64(in.MemoryBytes) / 1024
	v, cpus := in.PGVersion, in.CPUs
	windowsOld := in.OS == OSWindows && v <= 17
	var out []Setting
	add := func(name, value, reason string) {
		out = append(out, Setting{Name: name, Value: value, Reason: "PGTune: " + reason, Source: SourcePGTune})
	}
	kb := func(f float64) string { return FormatKB(uint64(f)) }

	maxConns := in.MaxConnections
	connReason := "as given in the input"
	if maxConns == 0 {
		maxConns = map[Workload]int{WorkloadWeb: 200, WorkloadOLTP: 300, WorkloadDW: 40, WorkloadDesktop: 20, WorkloadMixed: 100}[in.Workload]
		connReason = fmt.Sprintf("default for the %s workload", in.Workload)
	}
	add("max_connections", strconv.Itoa(maxConns), connReason)

	sharedBuffers := math.Floor(ramKB / 4)
	sbReason := "25% of RAM"
	if in.Workload == WorkloadDesktop {
		sharedBuffers, sbReason = math.Floor(ramKB/16), "1/16 of RAM on a desktop"
	}
	add("shared_buffers", kb(sharedBuffers), sbReason)

	ecs, ecsReason := math.Floor(ramKB*3/4), "75% of RAM: what the OS cache and shared_buffers hold, for the planner"
	if in.Workload == WorkloadDesktop {
		ecs, ecsReason = math.Floor(ramKB/4), "25% of RAM on a desktop, for the planner"
	}
	add("effective_cache_size", kb(ecs), ecsReason)

	mwm, mwmReason := math.Floor(ramKB/16), "RAM/16 for VACUUM and CREATE INDEX"
	if in.Workload == WorkloadDW {
		mwm, mwmReason = math.Floor(ramKB/8), "RAM/8 for VACUUM and CREATE INDEX on a warehouse"
	}
	mwmCap := float64(maintenanceWorkMemCapKB)
	if windowsOld {
		mwmCap = windowsCapKB
	}
	if mwm >= mwmCap {
		mwm, mwmReason = mwmCap, mwmReason+", capped at 8GB"
		if windowsOld {
			mwm, mwmReason = windowsLimitKB, mwmReason+" (2GB - 1MB on Windows up to PG 17)"
		}
	}
	add("maintenance_work_mem", kb(mwm), mwmReason)

	add("checkpoint_completion_target", "0.9", "spread checkpoint writes over 90% of the interval")

	walBuffers := math.Floor(3 * sharedBuffers / 100)
	if walBuffers > walBuffersMaxKB {
		walBuffers = walBuffersMaxKB
	}
	if walBuffers > walBuffersNearKB && walBuffers < walBuffersMaxKB {
		walBuffers = walBuffersMaxKB
	}
	if walBuffers < walBuffersMinKB {
		walBuffers = walBuffersMinKB
	}
	add("wal_buffers", kb(walBuffers), "3% of shared_buffers, at most 16MB")

	if in.Workload == WorkloadDW {
		add("default_statistics_target", "500", "finer statistics for a warehouse's large queries")
	} else {
		add("default_statistics_target", "100", "PostgreSQL's default sample size")
	}

	switch {
	case in.DBSize == DBSizeLessRAM:
		add("random_page_cost", "1.1", "the data fits in RAM, random reads cost about as much as sequential ones")
	case in.Storage == StorageHDD:
		add("random_page_cost", "4", "random reads on spinning disks are slow")
	case in.Workload == WorkloadDW:
		add("random_page_cost", "4", "keeps a warehouse larger than RAM off index scans for big reads")
	default:
		add("random_page_cost", "1.1", fmt.Sprintf("random reads on %s cost about as much as sequential ones", in.Storage))
	}

	if in.OS == OSLinux {
		eio := map[Storage]int{StorageHDD: 2, StorageSSD: 200, StorageSAN: 300, StorageNVMe: 1000}[in.Storage]
		add("effective_io_concurrency", strconv.Itoa(eio), fmt.Sprintf("concurrent reads %s storage serves well", in.Storage))
	}

	var parallel []Setting
	workersForWorkMem := float64(defaultMaxWorkerProcesses)
	if cpus >= parallelMinCPUs {
		perGather := int(math.Ceil(float64(cpus) / 2))
		if in.Workload != WorkloadDW && perGather > parallelPerGatherCap {
			perGather = parallelPerGatherCap
		}
		p := func(name, value, reason string) {
			parallel = append(parallel, Setting{Name: name, Value: value, Reason: "PGTune: " + reason, Source: SourcePGTune})
		}
		p("max_worker_processes", strconv.Itoa(cpus), "one background worker per CPU")
		p("max_parallel_workers_per_gather", strconv.Itoa(perGather), "half the CPUs per query, at most 4 unless dw")
		if v >= 10 {
			p("max_parallel_workers", strconv.Itoa(cpus), "one parallel worker per CPU")
		}
		if v >= 11 {
			p("max_parallel_maintenance_workers", strconv.Itoa(min(int(math.Ceil(float64(cpus)/2)), parallelPerGatherCap)), "half the CPUs for CREATE INDEX and VACUUM, at most 4")
		}
		workersForWorkMem = float64(cpus)
	}

	w := (ramKB - sharedBuffers) / ((float64(maxConns) + workersForWorkMem) * 3)
	var workMem float64
	wmReason := "(RAM - shared_buffers) / ((max_connections + max_worker_processes) x 3)"
	switch in.Workload {
	case WorkloadDW, WorkloadMixed:
		workMem, wmReason = math.Floor(w/2), wmReason+" / 2"
	case WorkloadDesktop:
		workMem, wmReason = math.Floor(w/6), wmReason+" / 6"
	default:
		workMem = math.Floor(w)
	}
	switch in.DBSize {
	case DBSizeLessRAM:
		workMem, wmReason = math.Floor(workMem*1.3), wmReason+", x1.3 as the data fits in RAM"
	case DBSizeGreaterRAM:
		workMem, wmReason = math.Floor(workMem*0.9), wmReason+", x0.9 as the data is over 3x RAM"
	}
	if workMem < workMemMinKB {
		workMem, wmReason = workMemMinKB, wmReason+", at least 4MB"
	}
	if windowsOld && workMem > windowsLimitKB {
		workMem, wmReason = windowsLimitKB, wmReason+", at most 2GB - 1MB on Windows up to PG 17"
	}
	add("work_mem", kb(workMem), wmReason)

	switch {
	case in.OS == OSMac:
		add("huge_pages", "off", "macOS has no huge pages for PostgreSQL")
	case sharedBuffers >= hugePagesThresholdKB:
		add("huge_pages", "try", "shared_buffers of 2GB or more gains from huge pages where the OS has them")
	default:
		add("huge_pages", "off", "shared_buffers under 2GB gains little from huge pages")
	}

	if v >= 12 && (in.Workload == WorkloadWeb || in.Workload == WorkloadOLTP || in.Workload == WorkloadMixed) {
		add("jit", "off", "JIT compile time costs more than it saves on short queries")
	}

	switch {
	case v >= 15:
		add("wal_compression", "lz4", "compress full-page images in WAL with lz4 (server built --with-lz4), less WAL for bulk writes")
	case v >= 10:
		add("wal_compression", "on", "compress full-page images in WAL (pglz), less WAL for bulk writes")
	}

	switch {
	case cpus >= 32:
		add("autovacuum_max_workers", "5", "more vacuum workers on 32+ CPUs")
	case cpus >= 16:
		add("autovacuum_max_workers", "4", "more vacuum workers on 16+ CPUs")
	}

	if mwm >= autovacuumWorkMemCapKB {
		avwm := float64(autovacuumWorkMemCapKB)
		if windowsOld && avwm > windowsLimitKB {
			avwm = windowsLimitKB
		}
		add("autovacuum_work_mem", kb(avwm), "caps each vacuum worker at 2GB instead of maintenance_work_mem")
	}

	ioMethod := ""
	if v >= 18 {
		ioMethod = "worker"
		if in.OS == OSLinux {
			ioMethod = "io_uring"
		}
		add("io_method", ioMethod, "asynchronous I/O (io_uring needs a server built --with-liburing)")
	}
	if v >= 18 && cpus > 0 && ioMethod != "io_uring" {
		if n := min(32, max(3, cpus/4)); n > 3 {
			add("io_workers", strconv.Itoa(n), "about one I/O worker per 4 CPUs, at most 32")
		}
	}

	walSizes := map[Workload][2]int{
		WorkloadWeb: {1024, 4096}, WorkloadOLTP: {2048, 8192}, WorkloadDW: {4096, 16384},
		WorkloadDesktop: {100, 2048}, WorkloadMixed: {1024, 4096},
	}[in.Workload]
	add("min_wal_size", FormatKB(uint64(walSizes[0])*kBPerMB), fmt.Sprintf("WAL kept for reuse for the %s workload", in.Workload))
	add("max_wal_size", FormatKB(uint64(walSizes[1])*kBPerMB), fmt.Sprintf("WAL between checkpoints for the %s workload; fewer forced checkpoints", in.Workload))

	out = append(out, parallel...)

	if in.Workload == WorkloadDesktop {
		add("wal_level", "minimal", "a desktop needs no replication or archiving")
		add("max_wal_senders", "0", "must be 0 with wal_level = minimal")
	}

	return out, pgtuneWarnings(in)
}

// pgtuneWarnings are PGTune's warnings for the input.
func pgtuneWarnings(in Input) []string {
	var w []string
	switch {
	case in.MemoryBytes < 256<<20:
		w = append(w, "PGTune is not optimal for low memory systems (under 256MB)")
	case in.MemoryBytes > 100<<30:
		w = append(w, "PGTune is not optimal for very high memory systems (over 100GB)")
	}
	if in.PGVersion >= 15 {
		w = append(w, "wal_compression = lz4 requires PostgreSQL compiled with --with-lz4")
	}
	if in.PGVersion >= 18 && in.OS == OSLinux {
		w = append(w, "io_method = io_uring requires PostgreSQL compiled with --with-liburing")
	}
	if in.Workload == WorkloadDW && in.Storage != StorageHDD && in.DBSize != DBSizeLessRAM {
		w = append(w, "cost parameters for a data warehouse on "+string(in.Storage)+" are left at defaults to avoid poor index scan choices; watch plans and adjust random_page_cost if needed")
	}
	return w
}
