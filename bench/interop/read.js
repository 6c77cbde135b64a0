// Reads bundle parts with nodejs-polars, to check that parts written by
// imbundle (arrow-go's IPC file writer, buffers ZSTD-compressed by
// bundle/ipczstd.go) open in another Arrow implementation. Not part of go test. From the repository root:
//
//   go run ./bench/interop/mkbundle bench/interop/out/sample.imb
//   unzip -p bench/interop/out/sample.imb data/00000/000000.arrow > bench/interop/out/types.arrow
//   unzip -p bench/interop/out/sample.imb data/00001/000000.arrow > bench/interop/out/dec256.arrow
//   (cd bench/interop && npm install && node read.js out/types.arrow out/dec256.arrow)
//
// It prints each part's schema and rows, or the reader's error; it exits 1
// if a part other than a decimal256 one fails.
const fs = require("fs");
const pl = require("nodejs-polars");

// values renders a column exactly: integers, decimals and temporal types as
// their stored numbers or text (JS numbers and Dates would round them),
// binary as hex (nodejs-polars cannot hand Binary to JS directly).
function dtypeName(s) {
  try {
    return String(s.dtype);
  } catch (e) {
    return "DataType(Binary)"; // nodejs-polars 0.26.1 cannot even print the Binary dtype
  }
}

function values(s) {
  const t = dtypeName(s);
  let v;
  if (t.includes("Binary")) {
    v = s.cast(pl.List(pl.UInt8)).toArray().map((b) => (b == null ? null : Buffer.from(b).toString("hex")));
  } else if (t.includes("Decimal")) {
    v = s.cast(pl.Utf8).toArray();
  } else if (/Datetime|Duration|Date|Time/.test(t)) {
    v = s.cast(pl.Int64).toArray();
  } else {
    v = s.toArray();
  }
  return JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));
}

let failed = false;
for (const path of process.argv.slice(2)) {
  console.log(`== ${path}`);
  try {
    const df = pl.readIPC(fs.readFileSync(path));
    console.log(`rows: ${df.height}`);
    for (const name of df.columns) {
      const s = df.getColumn(name);
      console.log(`  ${name}: ${dtypeName(s)} ${values(s)}`);
    }
  } catch (e) {
    console.log(`error: ${e.message}`);
    if (!path.includes("dec256")) failed = true;
  }
}
process.exit(failed ? 1 : 0);
