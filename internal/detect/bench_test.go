package detect_test

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/costbot/costbot/internal/detect"
	"github.com/costbot/costbot/internal/detect/costgen"
)

const benchSeries, benchDays = 10000, 365

// benchData is 64 distinct generated series reused round-robin for 10,000.
func benchData(b *testing.B) [][]float64 {
	b.Helper()
	g := costgen.Options{Days: benchDays, Quiet: 56, PerYear: 3}
	out := make([][]float64, 64)
	for i := range out {
		out[i] = costgen.Generate(uint64(i+1), g).Values
	}
	return out
}

// BenchmarkEnsemble runs the default ensemble over 10,000 series x 365 days
// per iteration (one Detector per series, as a live fleet would).
func BenchmarkEnsemble(b *testing.B) {
	data := benchData(b)
	opts := detect.DefaultOptions()
	b.ReportAllocs()
	b.ResetTimer()
	var sink float64
	for range b.N {
		for s := 0; s < benchSeries; s++ {
			d, _ := detect.New(opts)
			for _, v := range data[s%len(data)] {
				sink += d.Step(v).Score
			}
		}
	}
	b.ReportMetric(float64(b.N)*benchSeries*benchDays/b.Elapsed().Seconds(), "points/s")
	_ = sink
}

// BenchmarkEnsembleParallel runs the default ensemble over 100,000 series x
// 365 days per iteration on GOMAXPROCS goroutines (series handed out in
// blocks of 256), as the daemon's backtest of a large account would, and
// reports the wall time per 100,000 series-years.
func BenchmarkEnsembleParallel(b *testing.B) {
	const series, block = 100000, 256
	data := benchData(b)
	opts := detect.DefaultOptions()
	workers := runtime.GOMAXPROCS(0)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var next atomic.Int64
		var wg sync.WaitGroup
		sinks := make([]float64, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var sink float64
				for {
					lo := int(next.Add(block)) - block
					if lo >= series {
						break
					}
					for s := lo; s < min(lo+block, series); s++ {
						d, _ := detect.New(opts)
						for _, v := range data[s%len(data)] {
							sink += d.Step(v).Score
						}
					}
				}
				sinks[w] = sink
			}()
		}
		wg.Wait()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(series*benchDays/sec, "points/s")
	b.ReportMetric(sec, "s/100k-series-years")
}

// BenchmarkZScoreBaseline is a trailing 28-day mean/stddev z-score over the
// same data: the floor the ensemble's speed is compared against.
func BenchmarkZScoreBaseline(b *testing.B) {
	data := benchData(b)
	b.ReportAllocs()
	b.ResetTimer()
	var sink float64
	for range b.N {
		for s := 0; s < benchSeries; s++ {
			var ring [28]float64
			var sum, sum2 float64
			for i, v := range data[s%len(data)] {
				if i >= 28 {
					m := sum / 28
					sd := math.Sqrt(math.Max(sum2/28-m*m, 0))
					z := math.Abs(v-m) / (sd + 1e-9)
					sink += z / (1 + z)
					o := ring[i%28]
					sum -= o
					sum2 -= o * o
				}
				ring[i%28] = v
				sum += v
				sum2 += v * v
			}
		}
	}
	b.ReportMetric(float64(b.N)*benchSeries*benchDays/b.Elapsed().Seconds(), "points/s")
	_ = sink
}

// BenchmarkStep measures one Step on a long-running detector: allocations
// must be zero however long the history.
func BenchmarkStep(b *testing.B) {
	data := benchData(b)[0]
	d, _ := detect.New(detect.DefaultOptions())
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d.Step(data[i%len(data)])
	}
}
