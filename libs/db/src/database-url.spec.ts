import { databaseNameOf, quoteIdentifier, redactDatabaseUrl, withDatabase } from './database-url';

describe('database URLs', () => {
  it('reads the database name, decoded', () => {
    expect(databaseNameOf('postgres://u@h:5432/herald')).toBe('herald');
    expect(databaseNameOf('postgres://u@h:5432/my%20db?sslmode=require')).toBe('my db');
    expect(databaseNameOf('postgres://u@h:5432')).toBeNull();
  });

  it('points the same server and credentials at another database, keeping the options', () => {
    expect(withDatabase('postgres://u:p@h:5432/herald?sslmode=require')).toBe('postgres://u:p@h:5432/postgres?sslmode=require');
    expect(withDatabase('postgres://u@h/herald', 'herald_test_x')).toBe('postgres://u@h/herald_test_x');
  });

  it('hides the password', () => {
    expect(redactDatabaseUrl('postgres://u:s3cret@h/db')).toBe('postgres://u:***@h/db');
    expect(redactDatabaseUrl('not a url')).not.toContain('not a url');
  });

  it('quotes identifiers so any name is taken literally', () => {
    expect(quoteIdentifier('herald')).toBe('"herald"');
    expect(quoteIdentifier('a"; DROP DATABASE x; --')).toBe('"a""; DROP DATABASE x; --"');
  });
});
