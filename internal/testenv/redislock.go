package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The shared Redis has sixteen logical databases and several test packages
// that flush and fill them; go test runs packages in parallel processes,
// so two packages' tests on database 9 at once would see each other's
// keys. Every test that takes a database of the shared server holds one
// lock file per server (flock, released by the kernel if the process
// dies) for its duration. Tests inside one process run one at a time
// unless they call t.Parallel, which no Redis test does, so a count per
// process is enough to let one test take several databases.
var redisLock struct {
	sync.Mutex
	held int
	f    *os.File
}

func lockRedis(t testing.TB, addr string) {
	t.Helper()
	redisLock.Lock()
	defer redisLock.Unlock()
	if redisLock.held == 0 {
		name := filepath.Join(os.TempDir(), "imbundle-test-redis-"+strings.NewReplacer(":", "_", "/", "_").Replace(addr)+".lock")
		f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatalf("lock the shared Redis: %v", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("lock the shared Redis: %v", err)
		}
		redisLock.f = f
	}
	redisLock.held++
	t.Cleanup(func() {
		redisLock.Lock()
		defer redisLock.Unlock()
		if redisLock.held--; redisLock.held == 0 {
			redisLock.f.Close() // releases the flock
			redisLock.f = nil
		}
	})
}
