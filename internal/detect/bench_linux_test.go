package detect_test

import (
	"runtime"
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
