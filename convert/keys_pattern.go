package convert

import (
	"bytes"
	"fmt"
	"strings"
)

// keyPattern is a Redis key name pattern of a mapping's keys list (SPEC.md
// §11.9): literal text and {name} captures, such as
// "CON_USER_MIN_SEQ:{conversation_id}u:{user_id}". A capture matches one
// or more bytes; where several captures could split a key, each capture
// but the last takes the shortest text up to the next literal that lets
// the rest match, and the last takes what is left. Two captures must be
// separated by literal text (else the split would be a guess), and braces
// are never literal.
type keyPattern struct {
	text  string
	lits  []string // len(caps)+1 literals: lits[0] cap[0] lits[1] ... cap[n-1] lits[n]
	caps  []string
	names map[string]bool
}

// parseKeyPattern checks and parses a pattern; the error says what is wrong
// without a position (the caller adds FILE:LINE:COLUMN).
func parseKeyPattern(p string) (*keyPattern, error) {
	kp := &keyPattern{text: p, names: map[string]bool{}}
	var lit strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '}':
			return nil, fmt.Errorf("pattern %q: '}' at byte %d closes no capture", p, i)
		case '{':
			end := strings.IndexAny(p[i+1:], "{}")
			if end < 0 || p[i+1+end] != '}' {
				return nil, fmt.Errorf("pattern %q: the '{' at byte %d is not closed", p, i)
			}
			name := p[i+1 : i+1+end]
			if !isFieldName(name) {
				return nil, fmt.Errorf("pattern %q: capture {%s}: a capture is a field name (letters, digits, _; not starting with a digit)", p, name)
			}
			if kp.names[name] {
				return nil, fmt.Errorf("pattern %q: two captures named %s", p, name)
			}
			if len(kp.caps) > 0 && lit.Len() == 0 {
				return nil, fmt.Errorf("pattern %q: captures {%s} and {%s} touch: put literal text between them", p, kp.caps[len(kp.caps)-1], name)
			}
			kp.lits = append(kp.lits, lit.String())
			lit.Reset()
			kp.caps = append(kp.caps, name)
			kp.names[name] = true
			i += end + 1
		default:
			lit.WriteByte(p[i])
		}
	}
	kp.lits = append(kp.lits, lit.String())
	if len(kp.caps) == 0 {
		return nil, fmt.Errorf("pattern %q has no {capture}: the records of a key need a field from its name", p)
	}
	return kp, nil
}

func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// match returns the captured texts of key in capture order, or nil when
// key does not match. dst is reused.
func (kp *keyPattern) match(key []byte, dst [][]byte) [][]byte {
	if !bytes.HasPrefix(key, []byte(kp.lits[0])) {
		return nil
	}
	last := kp.lits[len(kp.lits)-1]
	if len(key) < len(kp.lits[0])+len(last) || !bytes.HasSuffix(key, []byte(last)) {
		return nil
	}
	body := key[len(kp.lits[0]) : len(key)-len(last)]
	dst = dst[:0]
	pos := 0
	for c := 0; c < len(kp.caps)-1; c++ {
		// At least one byte of capture, then the next literal.
		if pos+1 > len(body) {
			return nil
		}
		j := bytes.Index(body[pos+1:], []byte(kp.lits[c+1]))
		if j < 0 {
			return nil
		}
		dst = append(dst, body[pos:pos+1+j])
		pos += 1 + j + len(kp.lits[c+1])
	}
	if pos >= len(body) {
		return nil
	}
	return append(dst, body[pos:])
}
