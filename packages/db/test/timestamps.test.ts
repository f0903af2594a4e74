import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoFromTimestamptz } from '../src/index.ts';
import { type OpenTestDatabase, openTestDatabase } from '../src/testing.ts';

describe('isoFromTimestamptz', () => {
  it.each([
    '2026-12-06 13:01:02.123+00',
    '2026-12-06 13:01:02+00',
    '2026-12-06 13:01:02.1+00',
    '2026-12-06 13:01:02.12+00',
    '2026-12-06 13:01:02.123456+00',
    '2026-12-06 23:59:59.999999+00',
    '0999-01-01 00:00:00+00',
    '2026-12-06 15:01:02.5+02',
    '2026-12-06 08:31:02.5-04:30',
  ])('reads %s as Date does', (value) => {
    expect(isoFromTimestamptz(value)).toBe(new Date(value).toISOString());
  });
});

describe('timestamptz from PostgreSQL', () => {
  let database: OpenTestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
  });
  afterAll(() => database.close());

  it.each(['UTC', 'Asia/Kolkata'])(
    'comes back as the ISO time written, in session time zone %s',
    async (zone) => {
      const { db } = database.handle;
      const written = ['2026-12-06T13:01:02.123Z', '2026-12-06T13:01:02.000Z', '1999-12-31T23:59:59.999Z'];
      const rows = await db.connection().execute(async (connection) => {
        await sql`select set_config('timezone', ${zone}, false)`.execute(connection);
        return sql<{ at: string }>`select unnest(${written}::timestamptz[]) as at`.execute(connection);
      });
      expect(rows.rows.map((r) => r.at)).toEqual(written);
    },
  );
});
