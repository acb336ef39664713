// Package bench measures congressflow's performance claims against
// baselines run in the same process, on the same machine, at the same
// time: ratios stay meaningful on a noisy machine where absolute numbers
// do not.
//
// The measurements are tests gated on CONGRESSFLOW_BENCH=1, so a plain
// `go test ./...` skips them at once; `make bench` sets it, runs them and
// renders their results (one JSON file per claim in BENCH_DIR) with
// cmd/benchreport into bench/results.md:
//
//   - P1 orchestration overhead: an ingest through the worker process and
//     the Temporal dev server against [Loop], the same client and store
//     code in a plain Go loop.
//   - P2 store: [store.Tables.Upsert] against psql's \copy + one upsert,
//     against row-by-row INSERT … ON CONFLICT with a commit per row, and
//     an unchanged re-ingest against a first load.
//   - P3 rate budget: achieved request rate against the rate the fake API
//     enforces, with one and two worker processes on one key.
//   - P4 memory: the worker process's peak RSS at 100k and 1M items.
//   - P5 requests: requests used against the minimum the API allows.
//
// BENCH_COUNT (default 3) sets the runs per measurement, whose median is
// reported; BENCH_QUICK=1 shrinks the sizes for development.
package bench
