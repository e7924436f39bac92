import { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { ContactFilterName } from './campaign-contacts.store';
import { CONTACT_COLUMNS, filterSql } from './campaign-contacts.store';

/** The header row of every contacts export (docs/rest.md#export). */
export const CONTACTS_CSV_HEADER =
  'phone,stage,sent_at,delivered_at,read_at,clicked_at,replied_at,failed_at,failure_code,failure_title';

/** Rows fetched from the cursor at a time: the export's memory is bounded by this, whatever the size. */
const FETCH_ROWS = 2000;

/** A time cell: RFC 3339 UTC with a `Z` and no fraction, as the REST bodies write times; empty when null. */
const timeCell = (column: string) =>
  `coalesce(to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')`;

/**
 * A free-text cell, RFC 4180 quoted (always; quotes doubled) and guarded against spreadsheet
 * formula injection: text starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading
 * `'`, so a spreadsheet shows it as text instead of running it. Empty when null.
 */
export const textCell = (column: string) =>
  `coalesce('"' || replace(CASE WHEN ${column} ~ '^[-=+@\\t\\r]' THEN '''' || ${column} ELSE ${column} END, '"', '""') || '"', '')`;

/**
 * One CSV line per contact, made in SQL. The phone (always `+` and digits) and the stage (a fixed
 * lower-case name) need no quoting and hold nothing a spreadsheet would run.
 */
const LINE = [
  'c.phone',
  'lower(c.stage)',
  ...['sent_at', 'delivered_at', 'read_at', 'clicked_at', 'replied_at', 'failed_at'].map((t) => timeCell(`c.${t}`)),
  `coalesce(c.failure_code::text, '')`,
  textCell('c.failure_title'),
].join(` || ',' || `);

/**
 * A campaign's contacts as CSV, streamed from a server-side cursor on a connection of its own:
 * a page of rows at a time, only when the reader wants more, so memory stays flat. Destroying the
 * stream (a client that went away) stops fetching, ends the transaction and releases the
 * connection.
 */
/** The export's query: one CSV line a contact, `$1` the campaign id (the benchmark COPYs the same). */
export function contactsExportSql(filter: ContactFilterName): string {
  return `SELECT ${LINE} AS line
       FROM (SELECT ${CONTACT_COLUMNS} FROM campaign_contacts
             WHERE campaign_id = $1 AND ${filterSql(filter)}) c
       ORDER BY c.phone`;
}

export class ContactsExportStore {
  constructor(private readonly db: DataSource) {}

  async open(campaignId: string, filter: ContactFilterName): Promise<Readable> {
    return this.stream<{ line: string }>(
      contactsExportSql(filter),
      [campaignId],
      CONTACTS_CSV_HEADER,
      (row) => row.line,
    );
  }

  /**
   * Any query as CSV lines through a cursor: `header`, then `toLine` of each row, CRLF after each.
   * The query runs in a read-only transaction on a pool connection held until the stream ends.
   */
  async stream<Row>(sql: string, params: unknown[], header: string, toLine: (row: Row) => string): Promise<Readable> {
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    const client = await pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`DECLARE csv_export NO SCROLL CURSOR FOR ${sql}`, params);
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    return cursorStream(client, header, toLine);
  }
}

function cursorStream<Row>(client: PoolClient, header: string, toLine: (row: Row) => string): Readable {
  let released = false;
  let fetching: Promise<unknown> = Promise.resolve();
  const release = (end: 'COMMIT' | 'ROLLBACK') => {
    if (released) return Promise.resolve();
    released = true;
    return fetching
      .catch(() => {})
      .then(() => client.query(end))
      .then(
        () => client.release(),
        (error: Error) => client.release(error),
      );
  };
  let headerSent = false;
  return new Readable({
    encoding: 'utf8',
    read() {
      if (!headerSent) {
        headerSent = true;
        this.push(`${header}\r\n`);
        return;
      }
      const fetch = client.query(`FETCH ${FETCH_ROWS} FROM csv_export`);
      fetching = fetch;
      fetch.then(
        ({ rows }) => {
          if (released) return;
          if (rows.length === 0) {
            void release('COMMIT').then(() => this.push(null));
            return;
          }
          let chunk = '';
          for (const row of rows as Row[]) chunk += `${toLine(row)}\r\n`;
          this.push(chunk);
        },
        (error: Error) => this.destroy(error),
      );
    },
    destroy(error, callback) {
      release('ROLLBACK').then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
}
