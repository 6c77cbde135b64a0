package redistype

// AppliedKey is the hash in each target database that names the bundle
// last imported into it (SPEC.md §14.3): imbundle's own record, which
// exports and verify leave out, as they would any key of the user's.
const AppliedKey = "imbundle:applied"
