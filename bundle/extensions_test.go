package bundle

// Tests write and read the canonical extension types, so they register them.
import _ "github.com/apache/arrow-go/v18/arrow/extensions"
