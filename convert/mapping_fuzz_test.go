package convert

import (
	"strings"
	"testing"
)

// FuzzParseMapping feeds arbitrary bytes to the mapping file reader: a
// mapping is input from users and from whoever wrote a profile they were
// given, and must be refused with an error, never a panic. The seeds are
// the shipped profiles.
//
//	go test -run '^$' -fuzz FuzzParseMapping -fuzztime 30s -fuzzminimizetime 10x ./convert/
func FuzzParseMapping(f *testing.F) {
	for _, p := range Profiles() {
		text, err := ProfileText(p.Name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMapping("m.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "m.yaml") && !strings.Contains(err.Error(), "m.yaml") {
				t.Errorf("an error that does not name the file: %v", err)
			}
			return
		}
		m.AllChecks()
	})
}
