package mysqltype

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/internal/scheme"
)

func TestConfigTimeouts(t *testing.T) {
	u, _ := url.Parse("mysql://u:secret@db:3307/app")
	cfg, err := Config(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout != DefaultTimeout || cfg.ReadTimeout != DefaultTimeout || cfg.WriteTimeout != DefaultTimeout {
		t.Errorf("default timeouts: connect %s read %s write %s, want %s each", cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout, DefaultTimeout)
	}
	u, _ = url.Parse("mysql://db/app?timeout=5s&readTimeout=2m&writeTimeout=750ms&tls=skip-verify")
	cfg, err = Config(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout != 5*time.Second || cfg.ReadTimeout != 2*time.Minute || cfg.WriteTimeout != 750*time.Millisecond || cfg.TLSConfig != "skip-verify" || cfg.Addr != "db:3306" {
		t.Errorf("config from URL: %+v", cfg)
	}
}

func TestConfigRefusesUnknownAndBadParameters(t *testing.T) {
	for raw, want := range map[string]string{
		"mysql://u:secret@db/app?readtimeout=5s": "unknown parameter(s) readtimeout; valid: readTimeout, timeout, tls, writeTimeout",
		"mysql://u:secret@db/app?charset=latin1": "unknown parameter(s) charset",
		"mysql://u:secret@db/app?readTimeout=5":  `readTimeout="5": want a positive duration`,
		"mysql://u:secret@db/app?timeout=-1s":    `timeout="-1s": want a positive duration`,
		"mysql://u:secret@db/app/x?timeout=1s":   "the path must be a single database name",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Config(u, nil)
		if err == nil || !scheme.IsUsage(err) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: %v, want a usage error containing %q", raw, err, want)
		}
	}
}
