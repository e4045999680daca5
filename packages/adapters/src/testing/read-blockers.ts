/**
 * Helpers for cancellation tests on the server engines: a lock that makes every read of a table
 * wait, and the number of reads of it the server is running. The drivers load only when called, so
 * this entry does not need them installed otherwise.
 */
export type LockingEngine = 'postgres' | 'mysql';

/** Takes a lock that makes every read of `table` wait; resolves the function that releases it. */
export async function blockReads(engine: LockingEngine, url: string, table: string): Promise<() => Promise<void>> {
  if (engine === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('begin');
    await client.query(`lock table ${table} in access exclusive mode`);
    return async () => {
      await client.query('rollback');
      await client.end();
    };
  }
  const { default: mysql } = await import('mysql2/promise');
  const connection = await mysql.createConnection(url);
  await connection.query(`lock tables ${table} write`);
  return async () => {
    await connection.query('unlock tables');
    await connection.end();
  };
}

/**
 * How many reads (SELECTs) of `table` the server is running now, the probe's own excluded. Reads
 * only: a store's background ANALYZE and an export's audit insert also wait on the lock, and neither
 * is the read a test cancels.
 */
export async function runningReads(engine: LockingEngine, url: string, table: string): Promise<number> {
  if (engine === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const result = await client.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and query like $1 and query ilike 'select %'",
        [`%${table}%`],
      );
      return result.rows[0]?.n ?? 0;
    } finally {
      await client.end();
    }
  }
  const { default: mysql } = await import('mysql2/promise');
  const connection = await mysql.createConnection(url);
  try {
    const [rows] = await connection.query(
      "select count(*) as n from information_schema.processlist where id <> connection_id() and info like ? and info like 'select %'",
      [`%${table}%`],
    );
    return Number((rows as { n: number }[])[0]?.n ?? 0);
  } finally {
    await connection.end();
  }
}
