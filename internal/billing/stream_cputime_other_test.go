//go:build !unix

package billing

import "time"

// cpuTime is not measured on this platform: the cpu metrics read 0.
func cpuTime() time.Duration { return 0 }
