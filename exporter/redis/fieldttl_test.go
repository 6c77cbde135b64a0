package redis

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

func TestParseSubexpiry(t *testing.T) {
	info := "# Keyspace\r\ndb0:keys=5,expires=1,avg_ttl=3,subexpiry=2\r\ndb3:keys=1,expires=0,avg_ttl=0,subexpiry=0\r\ndb4:keys=1,expires=0,avg_ttl=0\r\ndb0 Strings_keys=3, expires=0\r\n"
	got := parseSubexpiry(info)
	if len(got) != 2 || got[0] != 2 || got[3] != 0 {
		t.Fatalf("got %v, want db0=2 db3=0 and nothing for db4 (no figure) or Pika's lines", got)
	}
}

// fakeRedis74 answers the commands Describe sends as a Redis 7.4 whose db 0
// holds hashes with field TTLs: the server this machine does not have.
func fakeRedis74(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					v, err := resp.ReadValue(r)
					if err != nil {
						return
					}
					var args []string
					for _, e := range v.Elems {
						args = append(args, strings.ToUpper(string(e.Str)))
					}
					bulk := func(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
					var out string
					switch strings.Join(args, " ") {
					case "INFO SERVER":
						out = bulk("# Server\r\nredis_version:7.4.0\r\n")
					case "INFO KEYSPACE":
						out = bulk("# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0,subexpiry=2\r\n")
					case "FUNCTION LIST WITHCODE":
						out = "*0\r\n"
					default:
						out = "-ERR unknown command\r\n"
					}
					if _, err := c.Write([]byte(out)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "redis://" + l.Addr().String()
}

// TestFieldTTLsRefusedOrCounted: a source whose INFO keyspace reports
// hashes with field TTLs is refused by name, unless skip-field-ttl=true,
// which records them as not carried. (Exporting such fields needs a Redis
// 7.4 server, which this machine lacks: only the detection is tested.)
func TestFieldTTLsRefusedOrCounted(t *testing.T) {
	raw := fakeRedis74(t)
	u, _ := url.Parse(raw)
	s, err := open(context.Background(), u, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Describe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "db0: 2 hashes") || !strings.Contains(err.Error(), "skip-field-ttl=true") {
		t.Fatalf("want a refusal naming db0's 2 hashes and the parameter, got %v", err)
	}
	s, err = open(context.Background(), u, exporter.Options{Params: map[string]string{"skip-field-ttl": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Uncarried) != 1 || d.Uncarried[0].Kind != "hash field TTL" || d.Uncarried[0].Count != 2 {
		t.Fatalf("uncarried: %+v", d.Uncarried)
	}
	// A database not exported does not count.
	u.Path = "/5"
	s, _ = open(context.Background(), u, exporter.Options{})
	if _, err := s.Describe(context.Background()); err != nil {
		t.Fatalf("db 5 has no field TTLs: %v", err)
	}
}
