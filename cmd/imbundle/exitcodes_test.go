package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every exit code is distinct, listed in README.md's table and in
// "imbundle help exit-codes", and nothing else is.
func TestExitCodesDocumented(t *testing.T) {
	codes := []int{exitOK, exitError, exitUsage, exitMismatch, exitRejects, exitBadInput, exitRefused}
	seen := map[int]bool{}
	for _, c := range codes {
		if seen[c] {
			t.Fatalf("exit code %d used twice", c)
		}
		seen[c] = true
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(readme)
	sec = sec[strings.Index(sec, "### Exit codes"):]
	sec = sec[:strings.Index(sec[4:], "\n### ")+4]
	var table []string
	for _, m := range regexp.MustCompile(`(?m)^\| ([0-9, ]+) \|`).FindAllStringSubmatch(sec, -1) {
		table = append(table, m[1])
	}
	help, err := runCLI(t, "help", "exit-codes")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^  ([0-9]+(?:, [0-9]+)*) +\S`).FindAllStringSubmatch(help, -1) {
		listed = append(listed, m[1])
	}
	want := "0 1 2 3 4 5 6 130, 143"
	if got := strings.Join(table, " "); got != want {
		t.Errorf("README.md lists codes %q, want %q", got, want)
	}
	if got := strings.Join(listed, " "); got != want {
		t.Errorf("help exit-codes lists %q, want %q:\n%s", got, want, help)
	}
}
