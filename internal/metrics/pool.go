package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads pgxpool statistics at every scrape: connections in
// use, idle and being opened as gauges; acquisitions, the ones that had
// to wait, and the time spent acquiring as counters.
type poolCollector struct{ pool *pgxpool.Pool }

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "pool", name), help, nil, nil)
}

var (
	poolAcquired     = poolDesc("acquired_conns", "Connections in use by the worker.")
	poolIdle         = poolDesc("idle_conns", "Idle connections in the pool.")
	poolTotal        = poolDesc("total_conns", "Connections open or being opened.")
	poolMax          = poolDesc("max_conns", "The pool's maximum size.")
	poolConstructing = poolDesc("constructing_conns", "Connections being opened.")
	poolAcquires     = poolDesc("acquires_total", "Successful acquisitions of a connection.")
	poolWaited       = poolDesc("acquires_waited_total", "Acquisitions that found no idle connection and had to wait for one (or for a new one).")
	poolCanceled     = poolDesc("acquires_canceled_total", "Acquisitions cancelled by their context.")
	poolAcquireSecs  = poolDesc("acquire_seconds_total", "Total time spent acquiring connections.")
	poolNewConns     = poolDesc("new_conns_total", "Connections opened.")
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolConstructing,
		poolAcquires, poolWaited, poolCanceled, poolAcquireSecs, poolNewConns} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(poolAcquired, float64(s.AcquiredConns()))
	gauge(poolIdle, float64(s.IdleConns()))
	gauge(poolTotal, float64(s.TotalConns()))
	gauge(poolMax, float64(s.MaxConns()))
	gauge(poolConstructing, float64(s.ConstructingConns()))
	counter(poolAcquires, float64(s.AcquireCount()))
	counter(poolWaited, float64(s.EmptyAcquireCount()))
	counter(poolCanceled, float64(s.CanceledAcquireCount()))
	counter(poolAcquireSecs, s.AcquireDuration().Seconds())
	counter(poolNewConns, float64(s.NewConnsCount()))
}
