package resp

import (
	"bufio"
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/internal/scheme"
)

func TestBufEncodesBinarySafeCommands(t *testing.T) {
	var b Buf
	b.Begin("HSET")
	b.Arg([]byte("k\r\n\x00"))
	b.Arg(nil)
	b.ArgInt(-12)
	b.End()
	b.CmdKey("PTTL", []byte{0xff})
	b.Cmd("PING")
	want := "*4\r\n$4\r\nHSET\r\n$4\r\nk\r\n\x00\r\n$0\r\n\r\n$3\r\n-12\r\n" +
		"*2\r\n$4\r\nPTTL\r\n$1\r\n\xff\r\n" +
		"*1\r\n$4\r\nPING\r\n"
	if got := string(b.Bytes()); got != want || b.Cmds() != 3 {
		t.Fatalf("got %q (%d commands), want %q", got, b.Cmds(), want)
	}
}

func TestReadValue(t *testing.T) {
	big := strings.Repeat("x", byteSlab) // larger than a slab: allocated alone
	in := "+OK\r\n-ERR wrong\r\n:-42\r\n$-1\r\n*-1\r\n$0\r\n\r\n$3\r\na\r\n\r\n" +
		"*2\r\n$1\r\n0\r\n*3\r\n$1\r\nf\r\n$1\r\nv\r\n$-1\r\n" +
		"$" + strconv.Itoa(len(big)) + "\r\n" + big + "\r\n" +
		"+string\r\n"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	var d decoder
	var got []Value
	for range 10 {
		v, err := d.read(r)
		if err != nil {
			t.Fatalf("value %d: %v", len(got), err)
		}
		got = append(got, v)
	}
	check := func(i int, ok bool) {
		if !ok {
			t.Errorf("value %d: %+v", i, got[i])
		}
	}
	check(0, got[0].Kind == KindSimple && string(got[0].Str) == "OK")
	check(1, got[1].Kind == KindError && IsServerError(got[1].Err(), "ERR wrong"))
	check(2, got[2].Kind == KindInt && got[2].Int == -42)
	check(3, got[3].Kind == KindNil)
	check(4, got[4].Kind == KindNil)
	check(5, got[5].Kind == KindBulk && len(got[5].Str) == 0)
	check(6, string(got[6].Str) == "a\r\n")
	check(7, len(got[7].Elems) == 2 && len(got[7].Elems[1].Elems) == 3 && got[7].Elems[1].Elems[2].Kind == KindNil && string(got[7].Elems[1].Elems[1].Str) == "v")
	check(8, string(got[8].Str) == big)
	check(9, string(got[9].Str) == "string")
	// Values carved from one slab must not overlap.
	got[6].Str = append(got[6].Str, "zzz"...)
	check(7, string(got[7].Elems[0].Str) == "0")
}

func TestReadValueRejectsGarbage(t *testing.T) {
	for _, in := range []string{"HTTP/1.1 400\r\n", "$5\r\nab\r\n", ":12x\r\n", "$3\r\nabcd\r\n", "+no crlf\n"} {
		var d decoder
		if _, err := d.read(bufio.NewReader(bytes.NewReader([]byte(in)))); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
}

func TestParseURLTimeouts(t *testing.T) {
	for _, c := range []struct {
		url              string
		dial, read, writ time.Duration
	}{
		{"redis://h", DefaultTimeout, DefaultTimeout, DefaultTimeout},
		{"redis://h?timeout=2s", 2 * time.Second, 2 * time.Second, 2 * time.Second},
		{"redis://h?timeout=2s&read_timeout=1500ms", 2 * time.Second, 1500 * time.Millisecond, 2 * time.Second},
		{"redis://h/3?dial_timeout=1s&write_timeout=4s", time.Second, DefaultTimeout, 4 * time.Second},
	} {
		u, _ := url.Parse(c.url)
		o, err := ParseURL(u)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		if o.DialTimeout != c.dial || o.ReadTimeout != c.read || o.WriteTimeout != c.writ {
			t.Errorf("%s: dial %s read %s write %s", c.url, o.DialTimeout, o.ReadTimeout, o.WriteTimeout)
		}
	}
	for _, bad := range []string{"redis://h?timeout=0s", "redis://h?read_timeout=-1s", "redis://h?dial_timeout=5", "redis://h?timeout=5s&foo=1"} {
		u, _ := url.Parse(bad)
		if _, err := ParseURL(u); !scheme.IsUsage(err) {
			t.Errorf("%s: want a usage error, got %v", bad, err)
		}
	}
}

func TestFirstName(t *testing.T) {
	var b Buf
	b.Cmd("scan", "0")
	b.Cmd("GET", "k")
	if got := firstName(b.Bytes()); got != "SCAN" {
		t.Fatalf("firstName = %q", got)
	}
}
