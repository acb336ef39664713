// Package sizing decides how much concurrency one congressflow worker
// process should run: activity and workflow-task slots, pollers, the pgx
// pool and HTTP connections per host.
//
// [Compute] is a pure function of the machine's effective CPUs, memory and
// load (from [sysprobe.Profile]), the database's connection budget and the
// Congress.gov request budget. Every number in the [Plan] carries the bound
// that limited it and a sentence saying why, so the worker can log a table
// that explains itself. Every number can be overridden.
//
// The shape of the work drives the rules: activities mostly wait on HTTP
// and PostgreSQL, so they are bounded by the connection pool, by the API
// budget (more slots than rate × latency only queue on the rate limiter)
// and by memory for page buffers long before they are bounded by CPU.
// Workflow tasks are short CPU bursts, so they scale with CPUs.
package sizing

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/opendiscourse/congressflow/internal/sysprobe"
)

// Bounds name what limited a [Value].
const (
	BoundCPU           = "cpu"            // effective CPUs
	BoundMemory        = "memory"         // effective memory
	BoundLoad          = "load"           // CPUs left after the host's load
	BoundDBConnections = "db_connections" // the pgx pool / PostgreSQL max_connections
	BoundAPIRate       = "api_rate"       // the Congress.gov request budget
	BoundHardCap       = "hard_cap"       // a fixed ceiling in this package
	BoundFloor         = "floor"          // a fixed minimum in this package
	BoundOverride      = "override"       // set by the operator
)

// Workflow tasks.
const (
	// workflowTaskSlotsPerCPU: a workflow task is a short CPU burst (replay,
	// then command generation) followed by a network round trip to complete
	// it; two per CPU keep each core busy while the other task waits.
	workflowTaskSlotsPerCPU = 2
	// minWorkflowTaskSlots: the SDK panics on 1, because the only slot
	// would always be taken by the sticky queue and the normal queue would
	// never be polled.
	minWorkflowTaskSlots = 2
	// maxWorkflowTaskSlots: a pipeline is one workflow with a few dozen
	// children; more concurrent workflow tasks per process only grow the
	// sticky cache and load the server.
	maxWorkflowTaskSlots = 64
)

// Activities.
const (
	// activitySlotsPerCPU: activities are I/O bound (an API page, then a
	// COPY and upsert); four per CPU keep cores busy decoding JSON and
	// encoding COPY rows while the others wait on the network.
	activitySlotsPerCPU = 4
	// maxActivitySlots: a per-process ceiling. The old rule of thumb capped
	// "optimal workers" at 20 on every machine; here CPU, memory, the pool
	// and the API budget bound the number first, and this cap only stops a
	// very large host from running more activities than one process and
	// one pool serve well. Past it, run more workers.
	maxActivitySlots = 64
	// activityMemoryPerSlot: the peak heap of one ingest activity: a page
	// of up to 250 Congress.gov records as raw JSON and decoded, plus the
	// COPY buffer. Bills with full text links run to tens of KiB each, so
	// 64 MiB is a generous estimate, not a measurement.
	activityMemoryPerSlot = 64 << 20
	// activityMemoryShare: the share of effective memory that activity
	// buffers may use. The rest is for the Go runtime, the workflow cache
	// and, often, PostgreSQL itself on the same host (shared_buffers alone
	// is commonly 25 %).
	activityMemoryShare = 0.25
)

// Load.
const (
	// loadHighWater: a 1-minute load average above one runnable task per
	// host CPU means the host is saturated; the CPU-bound counts then shrink
	// in proportion.
	loadHighWater = 1.0
	// minLoadShare: load never shrinks the CPU budget below a quarter. The
	// 1-minute load is a snapshot (a restore, a build) and the worker will
	// outlive it.
	minLoadShare = 0.25
)

// Database connections.
const (
	// poolReserveConns: connections beyond the activity slots, for run
	// bookkeeping and heartbeat writes, health checks and migrations, so an
	// activity holding a slot never waits for the pool.
	poolReserveConns = 2
	// dbConnectionShare: the part of the connections PostgreSQL allows
	// ordinary roles (max_connections minus the reserved ones) one worker
	// may claim, leaving the rest to a second worker, psql, backups and
	// monitoring.
	dbConnectionShare = 0.5
	// maxPoolConns: PostgreSQL's throughput peaks at a few active
	// connections per database core; more than 32 from one worker mostly
	// adds lock and CPU contention on the server.
	maxPoolConns = 32
	// poolMinShare: the part of the pool kept open when idle, so the first
	// activities after a quiet spell skip connection setup (TCP, TLS, auth).
	poolMinShare = 0.25
)

// Pollers.
const (
	// slotsPerPoller: one long poll per four slots keeps free slots filled
	// without holding many idle RPCs on the frontend.
	slotsPerPoller = 4
	// minPollers: two, so one poll is always outstanding while the other
	// hands a task over. The SDK also rejects one workflow-task poller.
	minPollers = 2
	// maxPollers: more concurrent long polls per task queue per process
	// do not raise throughput measurably.
	maxPollers = 8
)

// Congress.gov API.
const (
	// apiRequestLatency: the assumed p95 latency of one Congress.gov list
	// page at limit=250. By Little's law, rate × latency requests are in
	// flight when the budget is fully used.
	apiRequestLatency = 2 * time.Second
	// apiSlotHeadroom: one slot more than the requests in flight, so the
	// budget keeps being spent while one activity writes its page to
	// PostgreSQL.
	apiSlotHeadroom = 1
	// httpConnHeadroom: one connection more than requests in flight, for a
	// retry while a broken connection is being closed.
	httpConnHeadroom = 1
	// minHTTPConnsPerHost: one in use and one for a retry.
	minHTTPConnsPerHost = 2
	// maxHTTPConnsPerHost: the API limits by key, not by connection; more
	// than 32 connections to one host gains nothing and looks like abuse.
	maxHTTPConnsPerHost = 32
)

// Inputs are what the plan is computed from.
type Inputs struct {
	// CPUs is the effective CPU count (cgroup-aware). 0 means unknown and
	// is sized as 1.
	CPUs float64 `json:"cpus"`
	// HostCPUs is the host's logical CPU count, which the load average is
	// measured over. 0 means the same as CPUs.
	HostCPUs float64 `json:"host_cpus"`
	// MemoryBytes is the effective memory (cgroup-aware). 0 means unknown:
	// no memory bound is applied.
	MemoryBytes uint64 `json:"memory_bytes"`
	// Load1 is the host's 1-minute load average.
	Load1 float64 `json:"load1"`
	// DBMaxConnections is PostgreSQL's max_connections. 0 means unknown (the
	// database was not reachable): no database bound beyond the pool cap.
	DBMaxConnections int `json:"db_max_connections"`
	// DBReservedConnections are the connections ordinary roles cannot use:
	// superuser_reserved_connections plus reserved_connections (PG 16+).
	DBReservedConnections int `json:"db_reserved_connections"`
	// APIRequestsPerHour is the Congress.gov request budget this worker may
	// spend. 0 means unlimited: no API bound is applied.
	APIRequestsPerHour int `json:"api_requests_per_hour"`
	// Overrides replace computed numbers.
	Overrides Overrides `json:"overrides"`
}

// Overrides replace computed numbers. Zero means "compute it"; negative
// values are rejected. The worker fills this from flags and environment.
type Overrides struct {
	// ActivitySlots is MaxConcurrentActivityExecutionSize.
	ActivitySlots int `json:"activity_slots,omitempty"`
	// WorkflowTaskSlots is MaxConcurrentWorkflowTaskExecutionSize; 1 is
	// rejected (the SDK does not allow it).
	WorkflowTaskSlots int `json:"workflow_task_slots,omitempty"`
	// ActivityPollers is MaxConcurrentActivityTaskPollers.
	ActivityPollers int `json:"activity_pollers,omitempty"`
	// WorkflowTaskPollers is MaxConcurrentWorkflowTaskPollers; 1 is
	// rejected (the SDK does not allow it).
	WorkflowTaskPollers int `json:"workflow_task_pollers,omitempty"`
	// PoolMinConns is the pgxpool MinConns. It cannot be forced to 0;
	// the computed value is at least 1.
	PoolMinConns int `json:"pool_min_conns,omitempty"`
	// PoolMaxConns is the pgxpool MaxConns.
	PoolMaxConns int `json:"pool_max_conns,omitempty"`
	// HTTPConnsPerHost is the http.Transport MaxConnsPerHost (and
	// MaxIdleConnsPerHost) for the Congress.gov client.
	HTTPConnsPerHost int `json:"http_conns_per_host,omitempty"`
}

// InputsFromProfile fills CPUs, HostCPUs, MemoryBytes and Load1 from a
// probe. The database and API figures are left for the caller.
func InputsFromProfile(p sysprobe.Profile) Inputs {
	return Inputs{
		CPUs:        p.Effective.CPUs,
		HostCPUs:    float64(p.CPU.LogicalCores),
		MemoryBytes: p.Effective.MemoryBytes,
		Load1:       p.CPU.Load1,
	}
}

// Value is one planned number with what bound it.
type Value struct {
	// N is the number.
	N int `json:"n"`
	// Bound is what limited N: one of the Bound constants.
	Bound string `json:"bound"`
	// Reason says how N was reached, in a sentence.
	Reason string `json:"reason"`
}

// Plan is the worker's concurrency plan.
type Plan struct {
	// ActivitySlots is worker.Options.MaxConcurrentActivityExecutionSize.
	ActivitySlots Value `json:"activity_slots"`
	// WorkflowTaskSlots is
	// worker.Options.MaxConcurrentWorkflowTaskExecutionSize; never 1.
	WorkflowTaskSlots Value `json:"workflow_task_slots"`
	// ActivityPollers is worker.Options.MaxConcurrentActivityTaskPollers.
	ActivityPollers Value `json:"activity_pollers"`
	// WorkflowTaskPollers is
	// worker.Options.MaxConcurrentWorkflowTaskPollers; never 1.
	WorkflowTaskPollers Value `json:"workflow_task_pollers"`
	// PoolMinConns is pgxpool.Config.MinConns.
	PoolMinConns Value `json:"pool_min_conns"`
	// PoolMaxConns is pgxpool.Config.MaxConns.
	PoolMaxConns Value `json:"pool_max_conns"`
	// HTTPConnsPerHost is http.Transport.MaxConnsPerHost and
	// MaxIdleConnsPerHost for the API client.
	HTTPConnsPerHost Value `json:"http_conns_per_host"`
	// Inputs are what the plan was computed from.
	Inputs Inputs `json:"inputs"`
}

// Compute builds the plan. It fails, naming the field, when an input or an
// override cannot work.
func Compute(in Inputs) (Plan, error) {
	if err := in.validate(); err != nil {
		return Plan{}, err
	}
	ov := in.Overrides
	c := newCPUBudget(in)
	plan := Plan{Inputs: in}

	// Activity slots: the smallest of what CPU, memory, the API budget and
	// the per-process cap allow; the pool bound comes after the pool.
	act := []Value{c.scaled(activitySlotsPerCPU, "activity slots", "activities mostly wait on HTTP and PostgreSQL")}
	if in.MemoryBytes > 0 {
		n := int(float64(in.MemoryBytes) * activityMemoryShare / activityMemoryPerSlot)
		act = append(act, Value{n, BoundMemory, fmt.Sprintf("%s of %s memory at %s of page buffers per slot",
			percent(activityMemoryShare), sysprobe.FormatBytes(in.MemoryBytes), sysprobe.FormatBytes(activityMemoryPerSlot))})
	}
	inFlight := 0
	if in.APIRequestsPerHour > 0 {
		inFlight = apiInFlight(in.APIRequestsPerHour)
		act = append(act, Value{inFlight + apiSlotHeadroom, BoundAPIRate, fmt.Sprintf(
			"%d requests/h × %s latency ≈ %d in flight, +%d while a page is written; more slots only wait on the rate limiter",
			in.APIRequestsPerHour, apiRequestLatency, inFlight, apiSlotHeadroom)})
	}
	act = append(act, Value{maxActivitySlots, BoundHardCap, "per-process ceiling; run more workers to go further"})
	activity := atLeast(pick(act...), 1, "at least one slot so the worker makes progress")
	activity = override(activity, ov.ActivitySlots)

	// Pool max: the activity slots plus a reserve, within the database's
	// share and the cap.
	pool := []Value{{activity.N + poolReserveConns, activity.Bound, fmt.Sprintf(
		"%s + %d for bookkeeping and health checks", plural(activity.N, "activity slot"), poolReserveConns)}}
	usable := in.DBMaxConnections - in.DBReservedConnections
	if in.DBMaxConnections > 0 {
		pool = append(pool, Value{int(float64(usable) * dbConnectionShare), BoundDBConnections, fmt.Sprintf(
			"%s of the %d connections PostgreSQL allows (max_connections %d − %d reserved)",
			percent(dbConnectionShare), usable, in.DBMaxConnections, in.DBReservedConnections)})
	}
	pool = append(pool, Value{maxPoolConns, BoundHardCap, "more connections from one worker mostly add contention in PostgreSQL"})
	poolMax := atLeast(pick(pool...), 1, "at least one connection")
	poolMax = override(poolMax, ov.PoolMaxConns)
	if ov.PoolMaxConns > 0 && in.DBMaxConnections > 0 && ov.PoolMaxConns > usable {
		return Plan{}, fmt.Errorf("sizing: Overrides.PoolMaxConns %d exceeds the %d connections PostgreSQL allows (max_connections %d − %d reserved); lower it or raise max_connections",
			ov.PoolMaxConns, usable, in.DBMaxConnections, in.DBReservedConnections)
	}

	// Activities that need a connection must find one free.
	if room := poolMax.N - poolReserveConns; ov.ActivitySlots == 0 && room < activity.N {
		if room < 1 {
			activity = Value{1, BoundFloor, fmt.Sprintf(
				"at least one slot, though pool max %d leaves no room beyond the %d reserved, so activities may wait for a connection", poolMax.N, poolReserveConns)}
		} else {
			activity = Value{room, BoundDBConnections, fmt.Sprintf(
				"pool max %d (%s) − %d reserved, so no activity waits for a connection", poolMax.N, poolMax.Bound, poolReserveConns)}
		}
	} else if ov.ActivitySlots > 0 && activity.N > room {
		activity.Reason += fmt.Sprintf("; above pool max %d − %d reserved, so activities may wait for a connection", poolMax.N, poolReserveConns)
	}
	plan.ActivitySlots = activity

	poolMin := atLeast(Value{int(math.Ceil(float64(poolMax.N) * poolMinShare)), poolMax.Bound, fmt.Sprintf(
		"%s of pool max %d kept open so activities skip connection setup", percent(poolMinShare), poolMax.N)},
		1, "at least one open connection")
	poolMin = override(poolMin, ov.PoolMinConns)
	if poolMin.N > poolMax.N {
		return Plan{}, fmt.Errorf("sizing: Overrides.PoolMinConns %d exceeds PoolMaxConns %d; lower it or raise Overrides.PoolMaxConns", poolMin.N, poolMax.N)
	}
	plan.PoolMinConns, plan.PoolMaxConns = poolMin, poolMax

	wft := pick(
		c.scaled(workflowTaskSlotsPerCPU, "workflow task slots", "workflow tasks are short CPU bursts"),
		Value{maxWorkflowTaskSlots, BoundHardCap, "a pipeline has a few dozen workflows; more only grows the sticky cache"},
	)
	wft = atLeast(wft, minWorkflowTaskSlots, "the SDK rejects 1: the sticky and the normal queue each need a slot")
	plan.WorkflowTaskSlots = override(wft, ov.WorkflowTaskSlots)

	plan.ActivityPollers = override(pollers(plan.ActivitySlots, "activity"), ov.ActivityPollers)
	plan.WorkflowTaskPollers = override(pollers(plan.WorkflowTaskSlots, "workflow task"), ov.WorkflowTaskPollers)

	httpConns := []Value{{plan.ActivitySlots.N, plan.ActivitySlots.Bound, fmt.Sprintf(
		"one request in flight per activity slot (%d)", plan.ActivitySlots.N)}}
	if in.APIRequestsPerHour > 0 {
		httpConns = append(httpConns, Value{inFlight + httpConnHeadroom, BoundAPIRate, fmt.Sprintf(
			"≈ %d requests in flight at %d requests/h, +%d for a retry", inFlight, in.APIRequestsPerHour, httpConnHeadroom)})
	}
	httpConns = append(httpConns, Value{maxHTTPConnsPerHost, BoundHardCap, "the API limits by key, not by connection"})
	plan.HTTPConnsPerHost = override(atLeast(pick(httpConns...), minHTTPConnsPerHost,
		"one connection in use and one for a retry"), ov.HTTPConnsPerHost)
	return plan, nil
}

// cpuBudget is the CPUs the plan may use after the host's load.
type cpuBudget struct {
	cpus, budget float64 // effective CPUs, and what is left after load
	note         string
	loadPerCPU   float64
	hostCPUs     float64
}

func newCPUBudget(in Inputs) cpuBudget {
	c := cpuBudget{cpus: in.CPUs}
	if c.cpus == 0 {
		c.cpus, c.note = 1, " (CPU count unknown, assumed 1)"
	}
	c.hostCPUs = in.HostCPUs
	if c.hostCPUs == 0 {
		c.hostCPUs = c.cpus
	}
	c.loadPerCPU = in.Load1 / c.hostCPUs
	c.budget = c.cpus
	if c.loadPerCPU > loadHighWater {
		c.budget = c.cpus * max(minLoadShare, loadHighWater/c.loadPerCPU)
	}
	return c
}

// scaled is perCPU × the CPU budget, bound by load when load lowered it.
func (c cpuBudget) scaled(perCPU int, what, why string) Value {
	full := max(1, int(float64(perCPU)*c.cpus))
	n := max(1, int(float64(perCPU)*c.budget))
	if n < full {
		return Value{n, BoundLoad, fmt.Sprintf("%d %s per CPU × %s of %s CPUs left by load %.2f on %s host CPUs",
			perCPU, what, formatFloat(c.budget), formatFloat(c.cpus), c.loadPerCPU*c.hostCPUs, formatFloat(c.hostCPUs))}
	}
	return Value{full, BoundCPU, fmt.Sprintf("%d per CPU × %s CPUs%s: %s", perCPU, formatFloat(c.cpus), c.note, why)}
}

// pollers is one poller per slotsPerPoller slots, within [minPollers,
// maxPollers] and never more than the slots.
func pollers(slots Value, kind string) Value {
	v := pick(
		Value{ceilDiv(slots.N, slotsPerPoller), slots.Bound, fmt.Sprintf("one poller per %d %s slots, for %s", slotsPerPoller, kind, plural(slots.N, "slot"))},
		Value{maxPollers, BoundHardCap, "more long polls per process do not raise throughput"},
	)
	if floor := min(minPollers, slots.N); v.N < floor {
		v = Value{floor, BoundFloor, "two, so one poll is outstanding while the other hands a task over"}
	}
	return v
}

// pick returns the smallest value; on a tie, the first.
func pick(vs ...Value) Value {
	best := vs[0]
	for _, v := range vs[1:] {
		if v.N < best.N {
			best = v
		}
	}
	return best
}

// atLeast raises v to floor.
func atLeast(v Value, floor int, why string) Value {
	if v.N >= floor {
		return v
	}
	return Value{floor, BoundFloor, fmt.Sprintf("%s (computed %d: %s)", why, v.N, v.Reason)}
}

// override replaces v with n when n is set.
func override(v Value, n int) Value {
	if n == 0 {
		return v
	}
	return Value{n, BoundOverride, fmt.Sprintf("set by override; computed %d (%s)", v.N, v.Bound)}
}

// apiInFlight is the number of requests in flight when the hourly budget is
// spent evenly at apiRequestLatency each.
func apiInFlight(perHour int) int {
	return max(1, int(math.Ceil(float64(perHour)/3600*apiRequestLatency.Seconds())))
}

func (in Inputs) validate() error {
	var errs []error
	nonNegFloat := func(name string, v float64, want string) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			errs = append(errs, fmt.Errorf("sizing: Inputs.%s is %v; want %s", name, v, want))
		}
	}
	nonNegFloat("CPUs", in.CPUs, "a positive CPU count, or 0 when unknown")
	nonNegFloat("HostCPUs", in.HostCPUs, "the host's logical CPU count, or 0 for the same as CPUs")
	nonNegFloat("Load1", in.Load1, "the 1-minute load average (≥ 0)")
	for _, f := range []struct {
		name string
		v    int
		want string
	}{
		{"DBMaxConnections", in.DBMaxConnections, "max_connections, or 0 when unknown"},
		{"DBReservedConnections", in.DBReservedConnections, "superuser_reserved_connections + reserved_connections"},
		{"APIRequestsPerHour", in.APIRequestsPerHour, "the hourly request budget, or 0 for unlimited"},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("sizing: Inputs.%s is %d; want %s", f.name, f.v, f.want))
		}
	}
	if in.DBMaxConnections > 0 && in.DBReservedConnections >= in.DBMaxConnections {
		errs = append(errs, fmt.Errorf("sizing: Inputs.DBReservedConnections %d leaves none of max_connections %d for the worker; raise max_connections",
			in.DBReservedConnections, in.DBMaxConnections))
	}
	ov := in.Overrides
	for _, f := range []struct {
		name string
		v    int
	}{
		{"ActivitySlots", ov.ActivitySlots},
		{"WorkflowTaskSlots", ov.WorkflowTaskSlots},
		{"ActivityPollers", ov.ActivityPollers},
		{"WorkflowTaskPollers", ov.WorkflowTaskPollers},
		{"PoolMinConns", ov.PoolMinConns},
		{"PoolMaxConns", ov.PoolMaxConns},
		{"HTTPConnsPerHost", ov.HTTPConnsPerHost},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("sizing: Overrides.%s is %d; use a positive number, or 0 to compute it", f.name, f.v))
		}
	}
	if ov.WorkflowTaskSlots == 1 {
		errs = append(errs, errors.New("sizing: Overrides.WorkflowTaskSlots is 1, which the Temporal SDK rejects; use 2 or more, or 0 to compute it"))
	}
	if ov.WorkflowTaskPollers == 1 {
		errs = append(errs, errors.New("sizing: Overrides.WorkflowTaskPollers is 1, which the Temporal SDK rejects; use 2 or more, or 0 to compute it"))
	}
	return errors.Join(errs...)
}

// Row is one line of the plan table.
type Row struct {
	// Name is the setting, in snake_case.
	Name string `json:"name"`
	// Value is the planned number.
	Value int `json:"value"`
	// Bound is what limited it.
	Bound string `json:"bound"`
	// Reason says why, in a sentence.
	Reason string `json:"reason"`
}

// Rows lists the plan's numbers in a fixed order, for tables and logs.
func (p Plan) Rows() []Row {
	vals := []struct {
		name string
		v    Value
	}{
		{"activity_slots", p.ActivitySlots},
		{"workflow_task_slots", p.WorkflowTaskSlots},
		{"activity_pollers", p.ActivityPollers},
		{"workflow_task_pollers", p.WorkflowTaskPollers},
		{"pool_min_conns", p.PoolMinConns},
		{"pool_max_conns", p.PoolMaxConns},
		{"http_conns_per_host", p.HTTPConnsPerHost},
	}
	rows := make([]Row, len(vals))
	for i, v := range vals {
		rows[i] = Row{Name: v.name, Value: v.v.N, Bound: v.v.Bound, Reason: v.v.Reason}
	}
	return rows
}

// WriteTable writes the plan as an aligned text table with a header.
func (p Plan) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tBOUND\tREASON")
	for _, r := range p.Rows() {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.Name, r.Value, r.Bound, r.Reason)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write sizing table: %w", err)
	}
	return nil
}

// plural renders "1 slot", "4 slots".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func formatFloat(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

func percent(share float64) string {
	return strconv.FormatFloat(share*100, 'f', -1, 64) + "%"
}
