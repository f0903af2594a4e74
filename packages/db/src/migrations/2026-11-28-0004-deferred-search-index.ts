import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * SQLite: a sent message no longer goes into the full-text index inside its
 * own transaction. The insert trigger only queues its rowid in
 * `messages_fts_pending`; the index takes queued rows in batches (in the
 * background, and before every search, so a search still finds everything
 * sent before it). Indexing one row per send wrote several FTS5 pages per
 * commit. Deletes and edits of a row still queued leave the index alone: the
 * queued row is indexed with its content at that time. PostgreSQL: nothing
 * changes (its GIN index buffers new entries by itself).
 */
export async function up(db: AnyDb): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`create table messages_fts_pending (id integer primary key)`.execute(db);
  for (const trigger of ['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update']) {
    await sql`drop trigger ${sql.id(trigger)}`.execute(db);
  }
  await sql`create trigger messages_fts_insert after insert on messages begin
      insert or ignore into messages_fts_pending (id) values (new.rowid);
    end`.execute(db);
  await sql`create trigger messages_fts_delete after delete on messages begin
      insert into messages_fts (messages_fts, rowid, content)
        select 'delete', old.rowid, old.content
        where not exists (select 1 from messages_fts_pending where id = old.rowid);
      delete from messages_fts_pending where id = old.rowid;
    end`.execute(db);
  await sql`create trigger messages_fts_update after update of content on messages
      when not exists (select 1 from messages_fts_pending where id = old.rowid) begin
      insert into messages_fts (messages_fts, rowid, content) values ('delete', old.rowid, old.content);
      insert into messages_fts (rowid, content) values (new.rowid, new.content);
    end`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`insert into messages_fts (rowid, content)
      select m.rowid, m.content from messages_fts_pending p join messages m on m.rowid = p.id`.execute(db);
  for (const trigger of ['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update']) {
    await sql`drop trigger ${sql.id(trigger)}`.execute(db);
  }
  await sql`drop table messages_fts_pending`.execute(db);
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
