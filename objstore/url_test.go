package objstore

import "testing"

func TestParse(t *testing.T) {
	good := map[string]Location{
		"s3://b/site.imb":            {Bucket: "b", Key: "site.imb"},
		"s3://backups/im/2026/a.imb": {Bucket: "backups", Key: "im/2026/a.imb"},
	}
	for s, want := range good {
		got, err := Parse(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	if l, _ := Parse("s3://b/im/a.imb"); l.Name() != "a.imb" || l.sibling("a.imb.001") != "im/a.imb.001" {
		t.Errorf("name %q, sibling %q", l.Name(), l.sibling("a.imb.001"))
	}
	if l, _ := Parse("s3://b/a.imb"); l.sibling("a.imb.001") != "a.imb.001" {
		t.Errorf("sibling at the bucket's root: %q", l.sibling("a.imb.001"))
	}
	for _, s := range []string{"s3://", "s3://b", "s3://b/", "s3://b/dir/", "s3:///k", "s3://b//k", "s3://b/../k", "s3://b/k?x=1", "file:///k", "/tmp/k"} {
		if l, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", s, l)
		}
	}
}
