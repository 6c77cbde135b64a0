package redistype

import "strings"

// InfoField returns "name:value" from an INFO reply.
func InfoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	return ""
}

// ServerKind names the server from INFO server: Pika and Kvrocks also print
// a redis_version for client compatibility, so their own fields come first.
func ServerKind(info string) (kind, version string) {
	if v := InfoField(info, "pika_version"); v != "" {
		return "pika", v
	}
	if v := InfoField(info, "kvrocks_version"); v != "" {
		return "kvrocks", v
	}
	if v := InfoField(info, "dragonfly_version"); v != "" {
		return "dragonfly", v
	}
	if v := InfoField(info, "valkey_version"); v != "" {
		return "valkey", v
	}
	if v := InfoField(info, "redis_version"); v != "" {
		return "redis", v
	}
	return "unknown", ""
}
