// Package sysprobe describes the machine a congressflow process runs on:
// CPU, memory, load, the disks under the paths that matter, network
// interfaces and the container (cgroup v1 or v2) limits that bound them.
//
// [Prober.Probe] runs its collectors concurrently, each under its own
// timeout. A collector that fails or times out leaves a line in
// [Profile.Warnings]; the rest of the profile is still returned. The
// [Effective] figures are the smaller of what the host has and what the
// cgroup and CPU affinity allow, with the source that bound each, so a
// 64-core host running a 2-CPU container is described as a 2-CPU machine.
//
// A [Profile] is plain data: it round-trips through encoding/json unchanged,
// so it can be stored as jsonb and returned from a Temporal activity.
//
// [SysInfo] reports live CPU and memory use relative to the same effective
// limits, for the SDK's resource-based tuner.
//
// Every file the probe reads lives under [Options.Root], so tests run the
// whole probe on fixture directories.
package sysprobe
