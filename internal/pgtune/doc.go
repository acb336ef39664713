// Package pgtune recommends PostgreSQL settings for a database host and
// applies them safely.
//
// The recommender ([Recommend]) is a pure function of the host's memory and
// CPUs, the PostgreSQL major version, the workload, the storage and the
// database size class. Its core settings reproduce PGTune (le0pard/pgtune,
// 2026 formulas) exactly, value for value and in PGTune's order and format;
// after them come the settings a DBA adds for a write-heavy ingest database,
// each with a one-line reason that cites its source.
//
// [BuildPlan] compares a recommendation with what the server runs and has
// configured ([ServerState]) and decides, setting by setting, whether to
// change it; values within 5 % of the target are left alone. Setting names
// come from an allow-list ([Lookup]) and values are validated before they
// reach SQL.
//
// The I/O half lives in its own files: [ReadState] reads pg_settings and
// pg_file_settings, [Apply] runs ALTER SYSTEM one statement at a time and
// reloads, recording every change in ops.tuning_changes, [Verify] checks that
// what should be live is, and [Revert] restores a run's old values.
package pgtune
