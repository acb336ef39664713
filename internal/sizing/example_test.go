package sizing_test

import (
	"fmt"
	"os"

	"github.com/opendiscourse/congressflow/internal/sizing"
)

// A 2-CPU, 4 GiB laptop with PostgreSQL's default max_connections and the
// Congress.gov default budget of 5000 requests an hour: the API budget, not
// the hardware, bounds the activities.
func ExamplePlan_WriteTable() {
	plan, err := sizing.Compute(sizing.Inputs{
		CPUs:                  2,
		HostCPUs:              2,
		MemoryBytes:           4 << 30,
		Load1:                 0.4,
		DBMaxConnections:      100,
		DBReservedConnections: 3,
		APIRequestsPerHour:    5000,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := plan.WriteTable(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// SETTING                VALUE  BOUND     REASON
	// activity_slots         4      api_rate  5000 requests/h × 2s latency ≈ 3 in flight, +1 while a page is written; more slots only wait on the rate limiter
	// workflow_task_slots    4      cpu       2 per CPU × 2 CPUs: workflow tasks are short CPU bursts
	// activity_pollers       2      floor     two, so one poll is outstanding while the other hands a task over
	// workflow_task_pollers  2      floor     two, so one poll is outstanding while the other hands a task over
	// pool_min_conns         2      api_rate  25% of pool max 6 kept open so activities skip connection setup
	// pool_max_conns         6      api_rate  4 activity slots + 2 for bookkeeping and health checks
	// http_conns_per_host    4      api_rate  one request in flight per activity slot (4)
}
