package redis

import (
	"bufio"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// parseKeyspace returns the database numbers of an INFO keyspace reply. It
// reads Redis's and Kvrocks's "db0:keys=1,expires=0,avg_ttl=0" and Pika's
// "db0 Strings_keys=1, expires=0, invalid_keys=0" (one line per type, no
// colon), which is why a regex on "db(\d+):" finds nothing on Pika.
func parseKeyspace(info string) []int {
	seen := map[int]bool{}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "db") {
			continue
		}
		rest := line[2:]
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || (rest[i] != ':' && rest[i] != ' ') {
			continue
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			continue
		}
		seen[n] = true
	}
	dbs := make([]int, 0, len(seen))
	for n := range seen {
		dbs = append(dbs, n)
	}
	sort.Ints(dbs)
	return dbs
}

// parseSubexpiry returns, per database, the subexpiry figure of a Redis
// 7.4+ INFO keyspace reply ("db0:keys=5,expires=0,avg_ttl=0,subexpiry=2"):
// the number of hashes with fields that have their own TTL (HPEXPIRE).
// Valkey 9, which copied Redis's field TTL commands, names the same figure
// keys_with_volatile_items. Databases without it (older servers, Pika)
// are absent.
func parseSubexpiry(info string) map[int]int64 {
	out := map[int]int64{}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, fields, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "db") {
			continue
		}
		db, err := strconv.Atoi(name[2:])
		if err != nil {
			continue
		}
		for _, f := range strings.Split(fields, ",") {
			name, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			if name != "subexpiry" && name != "keys_with_volatile_items" {
				continue
			}
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[db] = n
			}
		}
	}
	return out
}

// parseDBList reads a --db value: "0,3,5".
func parseDBList(s string) ([]int, error) {
	var dbs []int
	seen := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(f, "db"))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--db %q: %q is not a database number", s, f)
		}
		if !seen[n] {
			seen[n] = true
			dbs = append(dbs, n)
		}
	}
	if len(dbs) == 0 {
		return nil, fmt.Errorf("--db %q names no database", s)
	}
	return dbs, nil
}

// probeDatabases finds non-empty databases with SELECT and DBSIZE, for
// servers whose INFO has no keyspace section (miniredis, some proxies).
func probeDatabases(ctx context.Context, c *resp.Conn) ([]int, error) {
	var dbs []int
	for n := 0; n < 16; n++ {
		if err := c.Select(ctx, n); err != nil {
			if n == 0 {
				return nil, err
			}
			break // fewer databases configured
		}
		v, err := c.Do(ctx, "DBSIZE")
		if err != nil {
			return nil, err
		}
		if v.Kind == resp.KindInt && v.Int > 0 {
			dbs = append(dbs, n)
		}
	}
	return dbs, c.Select(ctx, 0)
}
