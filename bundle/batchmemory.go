package bundle

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// A record batch may hold up to MaxBatchBytes (SPEC.md §4.1), and a few
// kilobytes of ZSTD can declare that much: the format cannot tell a bomb
// from a legitimately huge row. What a reader spends on one batch is a
// policy of the reader, not a rule of the format: imbundle decodes a batch
// only if it needs at most maxBatchMemory (its body, decoded buffers and
// one ZSTD window, as checkBuffers bounds them), and all batches decoded at
// once share decodeBudget. imbundle's exporters write batches of about
// 8 MiB (24 MiB to decode), so only a single row of more than ~100 MiB
// (a MySQL LONGBLOB) meets the limit; IMBUNDLE_BATCH_MEMORY_MIB raises it.

// ErrTooLarge is matched (errors.Is) by a *TooLargeError.
var ErrTooLarge = errors.New("record batch over the decode memory limit")

// BatchMemoryEnv names the environment variable that sets the decode
// memory limit in MiB.
const BatchMemoryEnv = "IMBUNDLE_BATCH_MEMORY_MIB"

// defaultBatchMemory keeps the decoded batches of an import or a deep
// verify, with Go's collector's headroom, under the 300 MiB the README
// promises (bench/README.md).
const defaultBatchMemory = 128 << 20

// maxBatchMemory is the most one batch may need to be decoded, and the
// size of decodeBudget.
var maxBatchMemory = batchMemoryLimit()

func batchMemoryLimit() int64 {
	if v, err := strconv.ParseInt(os.Getenv(BatchMemoryEnv), 10, 64); err == nil && v > 0 && v <= 1<<20 {
		return v << 20
	}
	return defaultBatchMemory
}

// batchMemory is what decoding batch b may allocate.
func batchMemory(b batchBlock) int64 {
	return int64(b.meta) + b.body + b.decoded + b.window + decodeSlack
}

// TooLargeError reports a record batch whose decoding would need more
// memory than the limit. The bundle may be intact: verify says so.
type TooLargeError struct {
	Entry       string
	Batch       int
	Need, Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("entry %q record batch %d needs %d MiB of memory to decode, over this reader's limit of %d MiB: if `imbundle verify` finds the bundle whole and it holds rows that large, set %s=%d and run again on a machine with that memory to spare",
		e.Entry, e.Batch, (e.Need+1<<20-1)>>20, e.Limit>>20, BatchMemoryEnv, (e.Need+1<<20-1)>>20+1)
}

func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }
