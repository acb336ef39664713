package pgtune

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const gib = uint64(1) << 30

// pgtuneLines returns PGTune's part of a recommendation as "name = value"
// lines, the way PGTune prints its postgresql.conf tab.
func pgtuneLines(t *testing.T, in Input) []string {
	t.Helper()
	rec, err := Recommend(in)
	require.NoError(t, err)
	var lines []string
	for _, s := range rec.Settings {
		if s.Source == SourcePGTune {
			lines = append(lines, s.Name+" = "+s.Value)
		}
	}
	return lines
}

// TestRecommendWorkedTable holds the recommender to the worked table of the
// reference (§3.1: PGTune HEAD, oltp, ssd, PG 15, Linux, mid_ram), line by
// line and in PGTune's order.
func TestRecommendWorkedTable(t *testing.T) {
	t.Parallel()
	base := Input{PGVersion: 15, OS: OSLinux, Workload: WorkloadOLTP, Storage: StorageSSD, DBSize: DBSizeMidRAM}
	tests := []struct {
		name string
		mem  uint64
		cpus int
		want []string
	}{
		{
			name: "a 2 CPU 4 GiB", mem: 4 * gib, cpus: 2,
			want: []string{
				"max_connections = 300",
				"shared_buffers = 1GB",
				"effective_cache_size = 3GB",
				"maintenance_work_mem = 256MB",
				"checkpoint_completion_target = 0.9",
				"wal_buffers = 16MB",
				"default_statistics_target = 100",
				"random_page_cost = 1.1",
				"effective_io_concurrency = 200",
				"work_mem = 4MB",
				"huge_pages = off",
				"jit = off",
				"wal_compression = lz4",
				"min_wal_size = 2GB",
				"max_wal_size = 8GB",
			},
		},
		{
			name: "b 8 CPU 32 GiB", mem: 32 * gib, cpus: 8,
			want: []string{
				"max_connections = 300",
				"shared_buffers = 8GB",
				"effective_cache_size = 24GB",
				"maintenance_work_mem = 2GB",
				"checkpoint_completion_target = 0.9",
				"wal_buffers = 16MB",
				"default_statistics_target = 100",
				"random_page_cost = 1.1",
				"effective_io_concurrency = 200",
				"work_mem = 27235kB",
				"huge_pages = try",
				"jit = off",
				"wal_compression = lz4",
				"autovacuum_work_mem = 2GB",
				"min_wal_size = 2GB",
				"max_wal_size = 8GB",
				"max_worker_processes = 8",
				"max_parallel_workers_per_gather = 4",
				"max_parallel_workers = 8",
				"max_parallel_maintenance_workers = 4",
			},
		},
		{
			name: "d 64 CPU 256 GiB", mem: 256 * gib, cpus: 64,
			want: []string{
				"max_connections = 300",
				"shared_buffers = 64GB",
				"effective_cache_size = 192GB",
				"maintenance_work_mem = 8GB",
				"checkpoint_completion_target = 0.9",
				"wal_buffers = 16MB",
				"default_statistics_target = 100",
				"random_page_cost = 1.1",
				"effective_io_concurrency = 200",
				"work_mem = 184365kB",
				"huge_pages = try",
				"jit = off",
				"wal_compression = lz4",
				"autovacuum_max_workers = 5",
				"autovacuum_work_mem = 2GB",
				"min_wal_size = 2GB",
				"max_wal_size = 8GB",
				"max_worker_processes = 64",
				"max_parallel_workers_per_gather = 4",
				"max_parallel_workers = 64",
				"max_parallel_maintenance_workers = 4",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := base
			in.MemoryBytes, in.CPUs = tt.mem, tt.cpus
			require.Equal(t, tt.want, pgtuneLines(t, in))
		})
	}
}

// TestRecommendPGTuneExpectations reproduces every expectation of PGTune's
// own test file (configurationSlice.test.js @ 7caef27) that the reference
// quotes, plus the rest of that file's selectors. want maps a setting to
// its formatted value; absent lists settings PGTune leaves out.
func TestRecommendPGTuneExpectations(t *testing.T) {
	t.Parallel()
	web := func(mem uint64, mods ...func(*Input)) Input {
		in := Input{MemoryBytes: mem, PGVersion: 18, OS: OSLinux, Workload: WorkloadWeb, Storage: StorageSSD, DBSize: DBSizeMidRAM}
		for _, m := range mods {
			m(&in)
		}
		return in
	}
	version := func(v int) func(*Input) { return func(in *Input) { in.PGVersion = v } }
	cpus := func(n int) func(*Input) { return func(in *Input) { in.CPUs = n } }
	conns := func(n int) func(*Input) { return func(in *Input) { in.MaxConnections = n } }
	osType := func(o OS) func(*Input) { return func(in *Input) { in.OS = o } }
	workload := func(w Workload) func(*Input) { return func(in *Input) { in.Workload = w } }
	storage := func(s Storage) func(*Input) { return func(in *Input) { in.Storage = s } }
	size := func(s DBSize) func(*Input) { return func(in *Input) { in.DBSize = s } }
	parallel := []string{"max_worker_processes", "max_parallel_workers_per_gather", "max_parallel_workers", "max_parallel_maintenance_workers"}

	tests := []struct {
		name   string
		in     Input
		want   map[string]string
		absent []string
	}{
		// selectParallelSettings
		{name: "parallel PG13 12 CPU", in: web(16*gib, version(13), cpus(12)),
			want: map[string]string{"max_worker_processes": "12", "max_parallel_workers_per_gather": "4", "max_parallel_workers": "12", "max_parallel_maintenance_workers": "4"}},
		{name: "parallel PG10 12 CPU", in: web(16*gib, version(10), cpus(12)),
			want:   map[string]string{"max_worker_processes": "12", "max_parallel_workers_per_gather": "4", "max_parallel_workers": "12"},
			absent: []string{"max_parallel_maintenance_workers"}},
		{name: "parallel PG10 31 CPU", in: web(16*gib, version(10), cpus(31)),
			want:   map[string]string{"max_worker_processes": "31", "max_parallel_workers_per_gather": "4", "max_parallel_workers": "31"},
			absent: []string{"max_parallel_maintenance_workers"}},
		{name: "parallel PG12 31 CPU dw", in: web(16*gib, version(12), cpus(31), workload(WorkloadDW)),
			want: map[string]string{"max_worker_processes": "31", "max_parallel_workers_per_gather": "16", "max_parallel_workers": "31", "max_parallel_maintenance_workers": "4"}},
		{name: "parallel 1 CPU", in: web(16*gib, version(14), cpus(1)), absent: parallel},
		{name: "parallel unknown CPUs", in: web(16*gib, version(14)), absent: parallel},

		// selectMaintenanceWorkMem
		{name: "maintenance 256GB linux PG17 caps at 8GB", in: web(256*gib, version(17)), want: map[string]string{"maintenance_work_mem": "8GB"}},
		{name: "maintenance 256GB windows PG17 caps at 2GB-1MB", in: web(256*gib, version(17), osType(OSWindows)), want: map[string]string{"maintenance_work_mem": "2047MB"}},
		{name: "maintenance 256GB windows PG18 caps at 8GB", in: web(256*gib, version(18), osType(OSWindows)), want: map[string]string{"maintenance_work_mem": "8GB"}},
		{name: "maintenance 16GB linux PG15 below cap", in: web(16*gib, version(15)), want: map[string]string{"maintenance_work_mem": "1GB"}},

		// selectHugePages
		{name: "huge pages 4GB off", in: web(4*gib, version(15)), want: map[string]string{"huge_pages": "off"}},
		{name: "huge pages 16GB try", in: web(16*gib, version(15)), want: map[string]string{"huge_pages": "try"}},
		{name: "huge pages 128GB mac off", in: web(128*gib, version(15), osType(OSMac)), want: map[string]string{"huge_pages": "off"}},

		// selectWorkMem
		{name: "work_mem floors at 4MB with 9999 connections", in: web(4*gib, version(15), conns(9999), cpus(4)), want: map[string]string{"work_mem": "4MB"}},
		{name: "work_mem windows PG17 caps at 2GB-1MB", in: web(256*gib, version(17), osType(OSWindows), conns(20), cpus(4)), want: map[string]string{"work_mem": "2047MB"}},
		{name: "work_mem windows PG18 exceeds 2GB", in: web(256*gib, version(18), osType(OSWindows), conns(20), cpus(4)), want: map[string]string{"work_mem": "2796202kB"}},
		{name: "work_mem 64GB mid_ram", in: web(64*gib, version(15)), want: map[string]string{"work_mem": "80659kB"}},
		{name: "work_mem 64GB less_ram x1.3", in: web(64*gib, version(15), size(DBSizeLessRAM)), want: map[string]string{"work_mem": "104856kB"}},
		{name: "work_mem 64GB greater_ram x0.9", in: web(64*gib, version(15), size(DBSizeGreaterRAM)), want: map[string]string{"work_mem": "72593kB"}},

		// selectEffectiveIoConcurrency
		{name: "io concurrency hdd", in: web(4*gib, storage(StorageHDD)), want: map[string]string{"effective_io_concurrency": "2"}},
		{name: "io concurrency ssd", in: web(4*gib, storage(StorageSSD)), want: map[string]string{"effective_io_concurrency": "200"}},
		{name: "io concurrency san", in: web(4*gib, storage(StorageSAN)), want: map[string]string{"effective_io_concurrency": "300"}},
		{name: "io concurrency nvme", in: web(4*gib, storage(StorageNVMe)), want: map[string]string{"effective_io_concurrency": "1000"}},
		{name: "io concurrency windows omitted", in: web(4*gib, osType(OSWindows)), absent: []string{"effective_io_concurrency"}},

		// selectMaxConnections and selectDefaultStatisticsTarget
		{name: "web", in: web(4 * gib), want: map[string]string{"max_connections": "200", "default_statistics_target": "100"}},
		{name: "oltp", in: web(4*gib, workload(WorkloadOLTP)), want: map[string]string{"max_connections": "300", "default_statistics_target": "100"}},
		{name: "dw", in: web(4*gib, workload(WorkloadDW)), want: map[string]string{"max_connections": "40", "default_statistics_target": "500"}},
		{name: "desktop", in: web(4*gib, workload(WorkloadDesktop)), want: map[string]string{"max_connections": "20", "default_statistics_target": "100"}},
		{name: "mixed", in: web(4*gib, workload(WorkloadMixed)), want: map[string]string{"max_connections": "100", "default_statistics_target": "100"}},

		// selectRandomPageCost
		{name: "random_page_cost hdd", in: web(4*gib, storage(StorageHDD)), want: map[string]string{"random_page_cost": "4"}},
		{name: "random_page_cost ssd", in: web(4*gib, storage(StorageSSD)), want: map[string]string{"random_page_cost": "1.1"}},
		{name: "random_page_cost san", in: web(4*gib, storage(StorageSAN)), want: map[string]string{"random_page_cost": "1.1"}},
		{name: "random_page_cost nvme", in: web(4*gib, storage(StorageNVMe)), want: map[string]string{"random_page_cost": "1.1"}},
		{name: "random_page_cost hdd less_ram", in: web(4*gib, storage(StorageHDD), size(DBSizeLessRAM)), want: map[string]string{"random_page_cost": "1.1"}},
		{name: "random_page_cost dw ssd mid_ram", in: web(4*gib, workload(WorkloadDW), size(DBSizeMidRAM)), want: map[string]string{"random_page_cost": "4"}},
		{name: "random_page_cost dw ssd less_ram", in: web(4*gib, workload(WorkloadDW), size(DBSizeLessRAM)), want: map[string]string{"random_page_cost": "1.1"}},

		// selectWalLevel
		{name: "desktop wal_level", in: web(4*gib, workload(WorkloadDesktop)), want: map[string]string{"wal_level": "minimal", "max_wal_senders": "0"}},
		{name: "web wal_level untouched", in: web(4 * gib), absent: []string{"wal_level", "max_wal_senders"}},

		// selectJit
		{name: "jit off PG12 web", in: web(4*gib, version(12)), want: map[string]string{"jit": "off"}},
		{name: "jit off PG15 oltp", in: web(4*gib, version(15), workload(WorkloadOLTP)), want: map[string]string{"jit": "off"}},
		{name: "jit untouched PG15 dw", in: web(4*gib, version(15), workload(WorkloadDW)), absent: []string{"jit"}},
		{name: "jit untouched PG11 web", in: web(4*gib, version(11)), absent: []string{"jit"}},

		// selectWalCompression
		{name: "wal_compression PG10", in: web(4*gib, version(10)), want: map[string]string{"wal_compression": "on"}},
		{name: "wal_compression PG14", in: web(4*gib, version(14)), want: map[string]string{"wal_compression": "on"}},
		{name: "wal_compression PG15", in: web(4*gib, version(15)), want: map[string]string{"wal_compression": "lz4"}},
		{name: "wal_compression PG17", in: web(4*gib, version(17)), want: map[string]string{"wal_compression": "lz4"}},

		// selectAutovacuumMaxWorkers
		{name: "autovacuum workers 32 CPU", in: web(4*gib, cpus(32)), want: map[string]string{"autovacuum_max_workers": "5"}},
		{name: "autovacuum workers 16 CPU", in: web(4*gib, cpus(16)), want: map[string]string{"autovacuum_max_workers": "4"}},
		{name: "autovacuum workers 8 CPU default", in: web(4*gib, cpus(8)), absent: []string{"autovacuum_max_workers"}},

		// selectAutovacuumWorkMem
		{name: "autovacuum_work_mem 4GB untouched", in: web(4*gib, version(15)), absent: []string{"autovacuum_work_mem"}},
		{name: "autovacuum_work_mem 256GB 2GB", in: web(256*gib, version(15)), want: map[string]string{"autovacuum_work_mem": "2GB"}},
		{name: "autovacuum_work_mem windows PG17 untouched", in: web(256*gib, version(17), osType(OSWindows)), absent: []string{"autovacuum_work_mem"}},
		{name: "autovacuum_work_mem windows PG18 2GB", in: web(256*gib, version(18), osType(OSWindows)), want: map[string]string{"autovacuum_work_mem": "2GB"}},

		// selectIoWorkers and selectIoMethod
		{name: "io_workers PG17", in: web(4*gib, version(17), cpus(32), osType(OSMac)), absent: []string{"io_workers", "io_method"}},
		{name: "io_workers no CPUs", in: web(4*gib, version(18), osType(OSMac)), want: map[string]string{"io_method": "worker"}, absent: []string{"io_workers"}},
		{name: "io_workers 8 CPU", in: web(4*gib, version(18), cpus(8), osType(OSMac)), absent: []string{"io_workers"}},
		{name: "io_workers 32 CPU", in: web(4*gib, version(18), cpus(32), osType(OSMac)), want: map[string]string{"io_workers": "8"}},
		{name: "io_workers 64 CPU", in: web(4*gib, version(18), cpus(64), osType(OSMac)), want: map[string]string{"io_workers": "16"}},
		{name: "io_workers 256 CPU caps at 32", in: web(4*gib, version(18), cpus(256), osType(OSMac)), want: map[string]string{"io_workers": "32"}},
		{name: "io_workers linux io_uring", in: web(4*gib, version(18), cpus(256)), want: map[string]string{"io_method": "io_uring"}, absent: []string{"io_workers"}},
		{name: "io_method windows", in: web(4*gib, version(18), osType(OSWindows)), want: map[string]string{"io_method": "worker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := Recommend(tt.in)
			require.NoError(t, err)
			for name, want := range tt.want {
				s, ok := rec.Get(name)
				require.True(t, ok, "%s missing", name)
				require.Equal(t, want, s.Value, name)
				require.Equal(t, SourcePGTune, s.Source, name)
			}
			for _, name := range tt.absent {
				s, ok := rec.Get(name)
				require.False(t, ok, "%s = %s should be left out", name, s.Value)
			}
		})
	}
}

func TestRecommendWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Input
		want []string
	}{
		{name: "standard PG14", in: Input{MemoryBytes: 4 * gib, PGVersion: 14}, want: nil},
		{name: "low memory", in: Input{MemoryBytes: 128 << 20, PGVersion: 14}, want: []string{"PGTune is not optimal for low memory systems (under 256MB)"}},
		{name: "high memory", in: Input{MemoryBytes: 256 * gib, PGVersion: 14}, want: []string{"PGTune is not optimal for very high memory systems (over 100GB)"}},
		{name: "lz4 and io_uring", in: Input{MemoryBytes: 4 * gib, PGVersion: 18}, want: []string{
			"wal_compression = lz4 requires PostgreSQL compiled with --with-lz4",
			"io_method = io_uring requires PostgreSQL compiled with --with-liburing",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := Recommend(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, rec.Warnings)
		})
	}
}

func TestRecommendIngestSettings(t *testing.T) {
	t.Parallel()
	in := Input{MemoryBytes: 32 * gib, CPUs: 8, PGVersion: 15}
	rec, err := Recommend(in)
	require.NoError(t, err)

	want := map[string]string{
		"checkpoint_timeout":                    "15min",
		"autovacuum_vacuum_scale_factor":        "0.05",
		"autovacuum_analyze_scale_factor":       "0.02",
		"autovacuum_vacuum_insert_scale_factor": "0.05",
		"autovacuum_vacuum_cost_limit":          "2000",
		"log_min_duration_statement":            "1s",
		"log_checkpoints":                       "on",
		"log_autovacuum_min_duration":           "1s",
		"log_lock_waits":                        "on",
		"log_temp_files":                        "0",
		"track_io_timing":                       "on",
		"track_activity_query_size":             "4096",
		"idle_in_transaction_session_timeout":   "10min",
		"default_toast_compression":             "lz4",
		"shared_preload_libraries":              "pg_stat_statements",
		"pg_stat_statements.max":                "10000",
		"pg_stat_statements.track":              "all",
	}
	for name, value := range want {
		s, ok := rec.Get(name)
		require.True(t, ok, "%s missing", name)
		require.Equal(t, value, s.Value, name)
		require.Equal(t, SourceIngest, s.Source, name)
		require.Contains(t, s.Reason, "(", "%s: reason cites its source", name)
	}
	_, ok := rec.Get("synchronous_commit")
	require.False(t, ok, "synchronous_commit only when opted in")

	// PGTune's lines come first, unchanged by the additions.
	require.Equal(t, "max_connections", rec.Settings[0].Name)
	for i, s := range rec.Settings {
		if s.Source == SourceIngest {
			for _, later := range rec.Settings[i:] {
				require.NotEqual(t, SourcePGTune, later.Source, "%s after the ingest settings", later.Name)
			}
			break
		}
	}

	in.SynchronousCommitOff = true
	in.PreloadLibraries = []string{"pg_cron", "pg_stat_statements", "pgaudit"}
	in.Storage = StorageHDD
	in.PGVersion = 12
	rec, err = Recommend(in)
	require.NoError(t, err)
	s, ok := rec.Get("synchronous_commit")
	require.True(t, ok)
	require.Equal(t, "off", s.Value)
	s, _ = rec.Get("shared_preload_libraries")
	require.Equal(t, "pg_stat_statements, pg_cron, pgaudit", s.Value)
	require.Equal(t, ContextRestart, s.Context)
	for _, name := range []string{"autovacuum_vacuum_insert_scale_factor", "default_toast_compression", "autovacuum_vacuum_cost_limit"} {
		_, ok := rec.Get(name)
		require.False(t, ok, "%s: not on PG 12 / hdd", name)
	}
}

func TestRecommendUnitsAndContexts(t *testing.T) {
	t.Parallel()
	rec, err := Recommend(Input{MemoryBytes: 32 * gib, CPUs: 16, PGVersion: 15})
	require.NoError(t, err)
	tests := []struct {
		name, unit string
		context    Context
	}{
		{"shared_buffers", "GB", ContextRestart},
		{"work_mem", "kB", ContextReload},
		{"checkpoint_timeout", "min", ContextReload},
		{"track_activity_query_size", "B", ContextRestart},
		{"random_page_cost", "", ContextReload},
		{"autovacuum_max_workers", "", ContextRestart},
		{"log_temp_files", "kB", ContextReload},
	}
	for _, tt := range tests {
		s, ok := rec.Get(tt.name)
		require.True(t, ok, tt.name)
		require.Equal(t, tt.unit, s.Unit, tt.name)
		require.Equal(t, tt.context, s.Context, tt.name)
	}
	rec, err = Recommend(Input{MemoryBytes: 32 * gib, CPUs: 16, PGVersion: 18})
	require.NoError(t, err)
	s, _ := rec.Get("autovacuum_max_workers")
	require.Equal(t, ContextReload, s.Context, "PG 18 reloads autovacuum_max_workers")
}

// TestRecommendValuesPassTheAllowList: every value the recommender emits,
// for every workload, storage, size, OS and version, is allow-listed and
// valid, so apply never builds a statement from an unchecked value.
func TestRecommendValuesPassTheAllowList(t *testing.T) {
	t.Parallel()
	for v := MinVersion; v <= MaxVersion; v++ {
		for _, w := range workloads {
			for _, st := range storages {
				for _, sz := range dbSizes {
					for _, o := range osTypes {
						for _, c := range []int{0, 2, 8, 64} {
							in := Input{MemoryBytes: 24 * gib, CPUs: c, PGVersion: v, Workload: w, Storage: st, DBSize: sz, OS: o, SynchronousCommitOff: true}
							rec, err := Recommend(in)
							require.NoError(t, err)
							for _, s := range rec.Settings {
								require.NoError(t, ValidateValue(s.Name, s.Value, v), "%+v", in)
								require.NotEmpty(t, s.Reason, s.Name)
							}
						}
					}
				}
			}
		}
	}
}

func TestRecommendRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      Input
		wantErr string
	}{
		{name: "no memory", in: Input{PGVersion: 15}, wantErr: "memory: unknown"},
		{name: "old version", in: Input{MemoryBytes: gib, PGVersion: 9}, wantErr: "pg_version: 9 is not supported"},
		{name: "unknown workload", in: Input{MemoryBytes: gib, PGVersion: 15, Workload: "olap"}, wantErr: `workload: "olap" is not a workload`},
		{name: "bad library", in: Input{MemoryBytes: gib, PGVersion: 15, PreloadLibraries: []string{"a,b"}}, wantErr: "preload_libraries[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Recommend(tt.in)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorIs(t, err, ErrInvalidInput)
		})
	}
}

func TestApplyOverrides(t *testing.T) {
	t.Parallel()
	rec, err := Recommend(Input{MemoryBytes: 4 * gib, CPUs: 2, PGVersion: 15})
	require.NoError(t, err)
	got, err := ApplyOverrides(rec, []Override{
		{Name: "work_mem", Value: "64MB"},
		{Name: "max_locks_per_transaction", Value: "256"},
		{Name: "shared_preload_libraries", Value: "auto_explain"},
	})
	require.NoError(t, err)
	s, _ := got.Get("work_mem")
	require.Equal(t, Setting{Name: "work_mem", Value: "64MB", Unit: "MB", Context: ContextReload, Reason: "set in the input (recommended: 4MB)", Source: SourceOverride, Field: "overrides[0]"}, s)
	s, _ = got.Get("max_locks_per_transaction")
	require.Equal(t, ContextRestart, s.Context)
	require.Equal(t, "max_locks_per_transaction", got.Settings[len(got.Settings)-1].Name, "a new setting is appended")
	s, _ = got.Get("shared_preload_libraries")
	require.Equal(t, "pg_stat_statements, auto_explain", s.Value, "libraries are merged, never replaced")
	orig, _ := rec.Get("work_mem")
	require.Equal(t, "4MB", orig.Value, "the input recommendation is not modified")

	for _, tt := range []struct {
		o       Override
		wantErr string
	}{
		{Override{Name: "fsync", Value: "off"}, "overrides[0]: fsync: not a setting this tool manages"},
		{Override{Name: "work_mem", Value: "lots"}, `overrides[0]: work_mem: "lots" is not a size`},
		{Override{Name: "work_mem", Value: "64MB'; DROP TABLE x; --"}, "is not a size"},
		{Override{Name: "max_connections", Value: "-5"}, "must not be negative"},
		{Override{Name: "huge_pages", Value: "maybe"}, "is not one of off, on, try"},
		{Override{Name: "shared_preload_libraries", Value: `a'b`}, "is not a bare library name"},
		{Override{Name: "io_method", Value: "worker"}, "needs PostgreSQL 18 or later"},
		{Override{Name: "cron.database_name", Value: "in\ngest"}, `cron.database_name: "in\ngest" is not a database name`},
		{Override{Name: "cron.database_name", Value: strings.Repeat("x", 64)}, "is not a database name (1 to 63 bytes of text)"},
	} {
		_, err := ApplyOverrides(rec, []Override{tt.o})
		require.ErrorContains(t, err, tt.wantErr, fmt.Sprint(tt.o))
		require.ErrorIs(t, err, ErrInvalidInput)
	}
}

func TestRequestValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, Request{}.Validate(), "the zero request is valid")
	require.NoError(t, Request{Memory: "512MB", CPUs: MaxCPUs}.Validate(), "the limits themselves are valid")
	require.NoError(t, Request{Overrides: []Override{{Name: "shared_preload_libraries", Value: "auto_explain, uuid-ossp, pg_stat_statements"}}}.Validate(),
		"bare library names, hyphens included")
	tests := []struct {
		name    string
		req     Request
		wantErr []string
	}{
		{name: "unknown workload", req: Request{Workload: "batch"}, wantErr: []string{`workload: "batch" is not a workload; use one of web, oltp, dw, desktop, mixed`}},
		{name: "negative memory", req: Request{Memory: "-4GB"}, wantErr: []string{"memory: must be positive"}},
		{name: "memory without unit sense", req: Request{Memory: "lots"}, wantErr: []string{`memory: "lots" is not a size`}},
		{name: "negative cpus", req: Request{CPUs: -1}, wantErr: []string{"cpus: -1 must not be negative"}},
		{name: "memory under PGTune's minimum", req: Request{Memory: "100kB", CPUs: 2},
			wantErr: []string{`memory: "100kB" is less than 512MB, the least PGTune tunes for`}},
		{name: "memory just under the minimum", req: Request{Memory: "511MB"}, wantErr: []string{`memory: "511MB" is less than 512MB`}},
		{name: "absurd cpus", req: Request{CPUs: 100000}, wantErr: []string{"cpus: 100000 is more than 1024"}},
		{name: "unknown override", req: Request{Overrides: []Override{{Name: "work_mem", Value: "1MB"}, {Name: "data_directory", Value: "/x"}}},
			wantErr: []string{"overrides[1]: data_directory: not a setting this tool manages"}},
		{name: "preload library as a path", req: Request{Overrides: []Override{{Name: "shared_preload_libraries", Value: "/etc/passwd"}}},
			wantErr: []string{`overrides[0]: shared_preload_libraries: "/etc/passwd" is not a bare library name: give the name of a library in the server's pkglibdir`}},
		{name: "preload library in $libdir", req: Request{Overrides: []Override{{Name: "shared_preload_libraries", Value: "pg_stat_statements, $libdir/auto_explain"}}},
			wantErr: []string{`overrides[0]: shared_preload_libraries: "$libdir/auto_explain" is not a bare library name`}},
		{name: "preload library with a dot", req: Request{Overrides: []Override{{Name: "shared_preload_libraries", Value: "auto_explain.so"}}},
			wantErr: []string{`"auto_explain.so" is not a bare library name`}},
		{name: "preload library going up", req: Request{Overrides: []Override{{Name: "shared_preload_libraries", Value: "../../../tmp/x"}}},
			wantErr: []string{`"../../../tmp/x" is not a bare library name`}},
		{name: "several at once", req: Request{Storage: "tape", PGVersion: 9},
			wantErr: []string{`storage: "tape"`, "pg_version: 9 is not supported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.req.Validate()
			require.ErrorIs(t, err, ErrInvalidInput)
			for _, w := range tt.wantErr {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	t.Parallel()
	formats := []struct {
		kb   uint64
		want string
	}{
		{1048576, "1GB"}, {2096128, "2047MB"}, {27235, "27235kB"}, {4096, "4MB"}, {32, "32kB"}, {268435456, "256GB"},
	}
	for _, f := range formats {
		require.Equal(t, f.want, FormatKB(f.kb))
	}
	sizes := []struct {
		in      string
		want    uint64
		wantErr string
	}{
		{in: "32GB", want: 32 * gib}, {in: "512MB", want: 512 << 20}, {in: "1.5TB", want: 1536 * gib},
		{in: "16GiB", want: 16 * gib}, {in: "2048kB", want: 2 << 20}, {in: "2 GB", want: 2 * gib}, {in: "1073741824", want: gib},
		{in: "-1GB", wantErr: "must be positive"}, {in: "12XB", wantErr: "unknown unit"}, {in: "GB", wantErr: "not a size"}, {in: "0GB", wantErr: "out of range"},
		{in: "1iB", wantErr: "unknown unit"}, {in: "1Bib", wantErr: "unknown unit"},
	}
	for _, s := range sizes {
		got, err := ParseSize(s.in)
		if s.wantErr != "" {
			require.ErrorContains(t, err, s.wantErr, s.in)
			continue
		}
		require.NoError(t, err, s.in)
		require.Equal(t, s.want, got, s.in)
	}
	require.Equal(t, "23.46GB", FormatBytes(25200000000), "truncated, not rounded")
	require.Equal(t, "512MB", FormatBytes(512<<20))
	require.Equal(t, []string{"a", "b c", `x"y`, "d"}, splitList(` a ,"b c", "x""y" ,d,`))
	require.True(t, strings.HasPrefix(FormatBytes(3), "3B"))
}
