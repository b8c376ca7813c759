// Counts an archive sink's messages per dt and type with DuckDB, as a Hive
// user would query it: prints [{"dt":…,"type":…,"n":…}, …] as JSON.
//   node archive_duckdb_query.js ROOT   (METLOG_PEERS_DIR holds @duckdb/node-api)
const path = require('path');
const peers = process.env.METLOG_PEERS_DIR || '/opt/metlog-peers';
const { DuckDBInstance } = require(
    path.join(peers, 'node_modules', '@duckdb', 'node-api'));

(async () => {
  const root = process.argv[2].replace(/'/g, "''");
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const result = await connection.runAndReadAll(
      `SELECT CAST(dt AS VARCHAR) AS dt, type, count(*)::INTEGER AS n
       FROM read_json_auto('${root}/*/*/*/*/*.jsonl.gz',
                           hive_partitioning = true)
       GROUP BY ALL ORDER BY ALL`);
  console.log(JSON.stringify(result.getRowObjectsJson()));
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
