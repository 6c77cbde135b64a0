package convert

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Profiles are mapping files shipped in the binary (profiles/*.yaml), for
// users to start from: listed by imbundle profiles, printed by imbundle
// profiles show NAME, used with --profile NAME as --map FILE is used.
//
//go:embed profiles/*.yaml
var profileFiles embed.FS

// ProfileInfo names a profile and says in a line what it is for.
type ProfileInfo struct {
	Name    string
	Summary string // the first line of its leading comment
}

// Profiles lists the shipped profiles by name.
func Profiles() []ProfileInfo {
	names, _ := fs.Glob(profileFiles, "profiles/*.yaml")
	sort.Strings(names)
	var out []ProfileInfo
	for _, n := range names {
		data, _ := profileFiles.ReadFile(n)
		first, _, _ := strings.Cut(string(data), "\n")
		out = append(out, ProfileInfo{Name: strings.TrimSuffix(strings.TrimPrefix(n, "profiles/"), ".yaml"), Summary: strings.TrimSpace(strings.TrimPrefix(first, "#"))})
	}
	return out
}

// ProfileText returns a profile's YAML as shipped.
func ProfileText(name string) ([]byte, error) {
	data, err := profileFiles.ReadFile("profiles/" + name + ".yaml")
	if err != nil {
		var names []string
		for _, p := range Profiles() {
			names = append(names, p.Name)
		}
		return nil, fmt.Errorf("no profile %q (imbundle profiles lists them: %s)", name, strings.Join(names, ", "))
	}
	return data, nil
}

// LoadProfile reads a shipped profile as a mapping; its errors name it as
// profile:NAME:LINE:COLUMN.
func LoadProfile(name string) (*Mapping, error) {
	data, err := ProfileText(name)
	if err != nil {
		return nil, err
	}
	return ParseMapping("profile:"+name, data)
}
