package scheme

import (
	"net/url"
	"strings"
	"testing"
)

func TestCheckQuery(t *testing.T) {
	u, _ := url.Parse("mysql://h/db?readTimeout=5s&timeout=1s")
	if err := CheckQuery(u, "timeout", "readTimeout"); err != nil {
		t.Fatalf("valid parameters refused: %v", err)
	}
	u, _ = url.Parse("mysql://h/db?readtimeout=5s&timeout=1s")
	err := CheckQuery(u, "timeout", "readTimeout")
	if err == nil || !IsUsage(err) {
		t.Fatalf("got %v, want a usage error", err)
	}
	if !strings.Contains(err.Error(), "readtimeout") || !strings.Contains(err.Error(), "readTimeout, timeout") {
		t.Fatalf("error %q must name the bad parameter and list the valid ones", err)
	}
}
