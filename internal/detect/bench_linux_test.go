package detect_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/costbot/costbot/internal/detect"
)

// threadCPU is the calling thread's user+system CPU time in seconds
// (getrusage RUSAGE_THREAD).
func threadCPU(tb testing.TB) float64 {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// BenchmarkEnsembleThreadCPU is BenchmarkEnsemble per second of the
// benchmark thread's own CPU time: on a shared machine the wall clock also
// counts the time other processes hold the core, this does not.
func BenchmarkEnsembleThreadCPU(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	data := benchData(b)
	opts := detect.DefaultOptions()
	b.ReportAllocs()
	b.ResetTimer()
	var sink float64
	c0 := threadCPU(b)
	for range b.N {
		for s := 0; s < benchSeries; s++ {
			d, _ := detect.New(opts)
			for _, v := range data[s%len(data)] {
				sink += d.Step(v).Score
			}
		}
	}
	b.ReportMetric(float64(b.N)*benchSeries*benchDays/(threadCPU(b)-c0), "points/cpu-s")
	_ = sink
}

// BenchmarkEnsembleParallelThreadCPU is BenchmarkEnsembleParallel measured
// in the workers' own thread CPU time: cpu-s/100k-series-years is their
// total divided by the number of workers, the wall time the run would take
// on idle cores (on a shared machine the wall clock is mostly the other
// processes' share).
func BenchmarkEnsembleParallelThreadCPU(b *testing.B) {
	const series, block = 100000, 256
	data := benchData(b)
	opts := detect.DefaultOptions()
	workers := runtime.GOMAXPROCS(0)
	b.ReportAllocs()
	b.ResetTimer()
	var total float64
	for range b.N {
		var next atomic.Int64
		var wg sync.WaitGroup
		cpu := make([]float64, workers)
		sinks := make([]float64, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				c0 := threadCPU(b)
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
				cpu[w], sinks[w] = threadCPU(b)-c0, sink
			}()
		}
		wg.Wait()
		for _, c := range cpu {
			total += c
		}
	}
	b.ReportMetric(total/float64(workers)/float64(b.N), "cpu-s/100k-series-years")
}
