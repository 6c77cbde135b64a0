// Runs one SQL query in DuckDB (npm's @duckdb/node-api) and prints its rows
// as JSON: the outside reader of extract's Parquet (extract_duckdb_test.go).
// Usage: node query.mjs SQL (with NODE_PATH-like resolution through the
// install directory passed as the working directory's node_modules).
import { DuckDBInstance } from '@duckdb/node-api';

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const reader = await connection.runAndReadAll(process.argv[2]);
process.stdout.write(JSON.stringify(reader.getRowObjectsJson()));
connection.closeSync();
