package main

import (
	"os"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestMain stops the servers the tests started (FerretDB, versitygw) and
// removes their data; without it they still end with the test binary, but
// leave their temporary directories.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopS3()
	testenv.StopMongo()
	os.Exit(code)
}
