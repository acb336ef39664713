// Package faults holds the fault suite: end-to-end scenarios that break
// one real part of an ingest at a time (the worker process, PostgreSQL,
// the Congress.gov API, the Temporal server, the user's input) and then
// compare the database with the fake API's ground truth.
//
// `go test ./...` runs a short form of every scenario; `make faults` sets
// CONGRESSFLOW_FAULTS=full for the sizes the fault suite is specified at
// and prints one summary line per scenario with the counts compared.
package faults
