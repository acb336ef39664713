// Package workflows holds congressflow's Temporal workflows. The code here
// is deterministic: no I/O, no wall clock, no goroutines, no map iteration;
// everything that touches the world runs in package activities.
package workflows
