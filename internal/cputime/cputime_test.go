package cputime_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cputime"
)

// TestProcess: busy work shows as CPU time where the platform reports it,
// and a sleep does not.
func TestProcess(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no getrusage here: Process returns 0")
	}
	start := cputime.Process()
	x := 1.0
	for deadline := time.Now().Add(10 * time.Second); cputime.Process()-start < 10*time.Millisecond; {
		if time.Now().After(deadline) {
			t.Fatalf("10 s of busy work showed %v of CPU (x=%v)", cputime.Process()-start, x)
		}
		for range 1000 {
			x = x*1.0000001 + 1e-9
		}
	}
	start = cputime.Process()
	time.Sleep(50 * time.Millisecond)
	if idle := cputime.Process() - start; idle > 30*time.Millisecond {
		t.Errorf("a 50 ms sleep used %v of CPU", idle)
	}
}
