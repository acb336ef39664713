// Package activities holds congressflow's Temporal activities. Each group is
// a struct holding its dependencies (pool, probe, HTTP client, logger); its
// methods are thin: they call into internal/ and classify errors for
// Temporal's retry policy at the boundary.
package activities
