/** The database a Postgres URL names, or null when it names none (then pg uses the user's name). */
export function databaseNameOf(databaseUrl: string): string | null {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  return name || null;
}

/** The same server and credentials, on another database (by default the `postgres` maintenance one). */
export function withDatabase(databaseUrl: string, database = 'postgres'): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** The URL without its password, fit for logs and error messages. */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(invalid DATABASE_URL)';
  }
}

/** A Postgres identifier, double-quoted so that any name is taken literally. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
