//go:build unix

package bundle

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time, so that benchmarks on a
// shared machine can report throughput per CPU-second beside wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
