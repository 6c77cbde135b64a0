package bundle

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/imbundle/imbundle/spec"
)

// CompressionLevel is the ZSTD level parts are written at: one of
// klauspost/compress's four encoder levels (export --compression-level).
// The zero value is the default level, which bundles before format 2.2
// were always written at. Readers need not know it: every ZSTD frame
// decodes the same whatever level wrote it.
type CompressionLevel int

// The levels, in klauspost's order: fastest (about zstd -1), default
// (about -3), better (about -7), best (about -11).
const (
	LevelDefault CompressionLevel = iota
	LevelFastest
	LevelBetter
	LevelBest
)

var levelNames = map[CompressionLevel]string{LevelFastest: "fastest", LevelDefault: "default", LevelBetter: "better", LevelBest: "best"}

// String is the level's name as the manifest records it.
func (l CompressionLevel) String() string { return levelNames[l] }

// ParseCompressionLevel reads a level by name (fastest, default, better,
// best) or by number, 1 (fastest) to 4 (best).
func ParseCompressionLevel(s string) (CompressionLevel, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for l, n := range levelNames {
		if s == n {
			return l, nil
		}
	}
	switch s {
	case "", "2":
		return LevelDefault, nil
	case "1":
		return LevelFastest, nil
	case "3":
		return LevelBetter, nil
	case "4":
		return LevelBest, nil
	}
	return 0, fmt.Errorf("%q: want fastest, default, better or best (or 1-4)", s)
}

func (l CompressionLevel) zstd() zstd.EncoderLevel {
	switch l {
	case LevelFastest:
		return zstd.SpeedFastest
	case LevelBetter:
		return zstd.SpeedBetterCompression
	case LevelBest:
		return zstd.SpeedBestCompression
	}
	return zstd.SpeedDefault
}

// record is the manifest's compression member for parts written at l.
func (l CompressionLevel) record() *spec.Compression {
	return &spec.Compression{Codec: "zstd", Level: l.String()}
}

// partEncoders are the shared encoders, one per level, made when first
// used; EncodeAll is safe for concurrent use.
var partEncoders sync.Map // CompressionLevel -> *zstd.Encoder

// partEncoder is the encoder of level l. Literals are entropy-coded in
// every block (ipcCompressor says why).
func partEncoder(l CompressionLevel) *zstd.Encoder {
	if e, ok := partEncoders.Load(l); ok {
		return e.(*zstd.Encoder)
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(l.zstd()),
		zstd.WithAllLitEntropyCompression(true),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
	if err != nil {
		panic(err) // only for invalid options
	}
	e, _ := partEncoders.LoadOrStore(l, enc)
	return e.(*zstd.Encoder)
}
