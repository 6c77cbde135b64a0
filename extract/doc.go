// Package extract writes the rows of one bundle dataset as JSON lines, CSV
// or Parquet, for people and tools that do not read Arrow IPC (SPEC.md
// Appendix A, "Extracting rows"). It streams part by part and batch by
// batch: memory stays that of one record batch, whatever the dataset's size.
//
// Every value is written exactly (text.go says how each Arrow type is
// spelled); a type this package cannot spell exactly is an error before
// the first row, never a changed value.
package extract
