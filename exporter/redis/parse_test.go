package redis

import (
	"math"
	"slices"
	"testing"

	"github.com/imbundle/imbundle/internal/redistype"
)

func TestParseKeyspace(t *testing.T) {
	cases := []struct {
		name, info string
		want       []int
	}{
		{"redis", "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb12:keys=5,expires=1,avg_ttl=3\r\n", []int{0, 12}},
		{"pika", "# Keyspace\r\n# Time:2024-01-01 00:00:00\r\ndb0 Strings_keys=3, expires=0, invalid_keys=0\r\ndb0 Hashes_keys=1, expires=0, invalid_keys=0\r\ndb1 Strings_keys=0, expires=0, invalid_keys=0\r\n", []int{0, 1}},
		{"kvrocks", "# Keyspace\r\n# Last scan db time: Thu Jan  1 00:00:00 1970\r\ndb0:keys=10,expires=0,avg_ttl=0,expired=0\r\nsequence:123\r\n", []int{0}},
		{"empty", "# Keyspace\r\n", []int{}},
		{"not a db line", "dbsize:3\r\ndbx:1\r\n", []int{}},
	}
	for _, c := range cases {
		if got := parseKeyspace(c.info); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseDBList(t *testing.T) {
	got, err := parseDBList("3, db5,3")
	if err != nil || !slices.Equal(got, []int{3, 5}) {
		t.Fatalf("got %v %v", got, err)
	}
	for _, bad := range []string{"", "x", "-1", ","} {
		if _, err := parseDBList(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestServerKind(t *testing.T) {
	for info, want := range map[string]string{
		"redis_version:7.0.15\r\n":                        "redis",
		"redis_version:2.8.0\r\npika_version:3.5.4\r\n":   "pika",
		"redis_version:4.0.0\r\nkvrocks_version:2.10\r\n": "kvrocks",
		"nothing:here\r\n":                                "unknown",
	} {
		if got, _ := redistype.ServerKind(info); got != want {
			t.Errorf("%q: got %s, want %s", info, got, want)
		}
	}
}

func TestParseScore(t *testing.T) {
	for s, want := range map[string]float64{
		"0.10000000000000001": 0.1, "0.1": 0.1, "1e-300": 1e-300, "inf": math.Inf(1), "-inf": math.Inf(-1),
		"+inf": math.Inf(1), "1.5000000000000001e+300": 1.5e300, "5e-324": 5e-324,
	} {
		got, err := ParseScore([]byte(s))
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("%q: got %v %v, want %v", s, got, err, want)
		}
	}
	if got, _ := ParseScore([]byte("-0")); !math.Signbit(got) || got != 0 {
		t.Errorf("-0 lost its sign: %v", got)
	}
	for _, bad := range []string{"nan", "", "1x"} {
		if _, err := ParseScore([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestNextStreamID(t *testing.T) {
	for id, want := range map[string]string{"1-1": "1-2", "0-0": "0-1", "5-18446744073709551615": "6-0"} {
		if got, err := nextStreamID(id); err != nil || got != want {
			t.Errorf("%s: got %s %v, want %s", id, got, err, want)
		}
	}
	for _, bad := range []string{"1", "a-1", "18446744073709551615-18446744073709551615"} {
		if _, err := nextStreamID(bad); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
