//go:build unix

package slackcmd

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used so far.
// Benchmarks report it per op as cpu-ns/op next to ns/op: on a shared
// machine wall time per op includes time spent waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
