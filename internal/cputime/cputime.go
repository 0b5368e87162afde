// Package cputime reads the CPU time the process has used, for benchmarks
// that report work (cpu-ns/op) as well as wall time: on a shared machine
// wall time mostly measures the wait for a core.
package cputime

import "time"

// Process returns the user plus system CPU time the process has used so
// far (getrusage), or 0 where the platform does not say.
func Process() time.Duration { return process() }
