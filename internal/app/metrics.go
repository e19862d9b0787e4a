package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/version"
)

// newMetrics returns the process's Prometheus registry: the Go runtime and
// process collectors and mlserve's own (docs/operations.md lists them).
func newMetrics() (*prometheus.Registry, *metrics.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, metrics.New(metrics.Config{Registerer: reg, Version: version.Version})
}
