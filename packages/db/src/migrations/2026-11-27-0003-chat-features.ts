import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * System lines (membership, renames), the subject of an event (the edited
 * message, the added member), and full-text search: FTS5 in SQLite, a
 * tsvector with a GIN index in PostgreSQL.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .alterTable('messages')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('user'))
    .execute();
  await db.schema.alterTable('messages').addColumn('system', 'text').execute();
  await db.schema.alterTable('events').addColumn('subject_id', 'text').execute();

  if (pg) {
    await sql`alter table messages add column search tsvector
      generated always as (to_tsvector('simple', content)) stored`.execute(db);
    await sql`create index messages_search on messages using gin (search)`.execute(db);
    return;
  }
  await sql`create virtual table messages_fts using fts5(
      content, content = 'messages', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2')`.execute(
    db,
  );
  await sql`insert into messages_fts (rowid, content) select rowid, content from messages`.execute(db);
  await sql`create trigger messages_fts_insert after insert on messages begin
      insert into messages_fts (rowid, content) values (new.rowid, new.content);
    end`.execute(db);
  await sql`create trigger messages_fts_delete after delete on messages begin
      insert into messages_fts (messages_fts, rowid, content) values ('delete', old.rowid, old.content);
    end`.execute(db);
  await sql`create trigger messages_fts_update after update of content on messages begin
      insert into messages_fts (messages_fts, rowid, content) values ('delete', old.rowid, old.content);
      insert into messages_fts (rowid, content) values (new.rowid, new.content);
    end`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    await sql`drop index messages_search`.execute(db);
    await sql`alter table messages drop column search`.execute(db);
  } else {
    for (const trigger of ['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update']) {
      await sql`drop trigger ${sql.id(trigger)}`.execute(db);
    }
    await sql`drop table messages_fts`.execute(db);
  }
  await db.schema.alterTable('events').dropColumn('subject_id').execute();
  await db.schema.alterTable('messages').dropColumn('system').execute();
  await db.schema.alterTable('messages').dropColumn('kind').execute();
}
