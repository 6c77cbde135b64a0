package objstore

import (
	"os"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestMain stops the S3 server the tests started and removes its data.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopS3()
	os.Exit(code)
}
