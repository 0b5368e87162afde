package metrics_test

import (
	"testing"

	"github.com/costbot/costbot/internal/detect/metrics"
)

// BenchmarkDetector_Step measures one Step on a long-running detector over
// a 5-minute metric: allocations must be zero however long the history.
// Compare it with detect's BenchmarkStep in the same run:
// go test -bench Step -benchmem ./internal/detect/ ./internal/detect/metrics/
func BenchmarkDetector_Step(b *testing.B) {
	data := metricSeries(20000, 15000)
	d, err := metrics.New(metrics.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d.Step(data[i%len(data)])
	}
}
