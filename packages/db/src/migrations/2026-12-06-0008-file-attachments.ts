import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * Files attached to messages.
 *
 * `files` holds one row per upload: `uploading` while its bytes stream in,
 * `ready` once stored. A ready file is pending until a message of its
 * uploader claims it (`message_key` = that message's client `message_id`, so
 * it belongs to the message `(sender_id, message_id)` = `(uploader_id,
 * message_key)`, known before the message is written). `file_chunks` holds
 * the bytes when they are kept in the database (several instances, no shared
 * disk); they go with their file row.
 *
 * Messages keep a copy of what they carry (`attachments`, JSON, for history
 * and events without a join) and the file names (`attachment_names`), which
 * search indexes next to the content: SQLite's FTS5 table is rebuilt with
 * both columns, PostgreSQL's generated tsvector covers both.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp = pg ? 'timestamptz' : 'text';
  const id = pg ? 'uuid' : 'text';
  await db.schema
    .createTable('files')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('conversation_id', id, (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('uploader_id', id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('type', 'text', (c) => c.notNull().defaultTo('application/octet-stream'))
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('message_key', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('files_by_message')
    .on('files')
    .columns(['uploader_id', 'message_key'])
    .execute();
  await db.schema
    .createIndex('files_by_uploader_time')
    .on('files')
    .columns(['uploader_id', 'created_at'])
    .execute();
  await db.schema.createIndex('files_by_state_time').on('files').columns(['state', 'created_at']).execute();
  await db.schema
    .createTable('file_chunks')
    .addColumn('file_id', id, (c) => c.notNull().references('files.id').onDelete('cascade'))
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('data', pg ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('file_chunks_pk', ['file_id', 'n'])
    .execute();

  await db.schema.alterTable('messages').addColumn('attachments', 'text').execute();
  await db.schema.alterTable('messages').addColumn('attachment_names', 'text').execute();

  if (pg) {
    await sql`drop index messages_search`.execute(db);
    await sql`alter table messages drop column search`.execute(db);
    // PostgreSQL's parser reads `report-2026.pdf` as one host-like token; split names at their punctuation
    // so each part is a word (SQLite's tokenizer already does).
    await sql`alter table messages add column search tsvector generated always as
      (to_tsvector('simple', content || ' ' || translate(coalesce(attachment_names, ''), '.-_+~()[]{},;''', '             '))) stored`.execute(
      db,
    );
    await sql`create index messages_search on messages using gin (search)`.execute(db);
    return;
  }
  await rebuildSqliteIndex(db, ['content', 'attachment_names']);
}

export async function down(db: AnyDb): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    await sql`drop index messages_search`.execute(db);
    await sql`alter table messages drop column search`.execute(db);
    await sql`alter table messages add column search tsvector
      generated always as (to_tsvector('simple', content)) stored`.execute(db);
    await sql`create index messages_search on messages using gin (search)`.execute(db);
  } else {
    await rebuildSqliteIndex(db, ['content']);
  }
  await db.schema.alterTable('messages').dropColumn('attachment_names').execute();
  await db.schema.alterTable('messages').dropColumn('attachments').execute();
  await db.schema.dropTable('file_chunks').execute();
  await db.schema.dropTable('files').execute();
}

/** SQLite: the FTS5 table and its triggers (as 0004 left them) over these columns of messages. */
async function rebuildSqliteIndex(db: AnyDb, columns: string[]): Promise<void> {
  const list = sql.join(columns.map((c) => sql.id(c)));
  const old = sql.join(columns.map((c) => sql.ref(`old.${c}`)));
  const fresh = sql.join(columns.map((c) => sql.ref(`new.${c}`)));
  for (const trigger of ['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update']) {
    await sql`drop trigger if exists ${sql.id(trigger)}`.execute(db);
  }
  await sql`drop table messages_fts`.execute(db);
  await sql`create virtual table messages_fts using fts5(
      ${sql.raw(columns.join(', '))}, content = 'messages', content_rowid = 'rowid',
      tokenize = 'unicode61 remove_diacritics 2')`.execute(db);
  // Rows still queued are indexed by the next batch, as before.
  await sql`insert into messages_fts (rowid, ${list})
      select rowid, ${list} from messages where rowid not in (select id from messages_fts_pending)`.execute(
    db,
  );
  await sql`create trigger messages_fts_insert after insert on messages begin
      insert or ignore into messages_fts_pending (id) values (new.rowid);
    end`.execute(db);
  await sql`create trigger messages_fts_delete after delete on messages begin
      insert into messages_fts (messages_fts, rowid, ${list})
        select 'delete', old.rowid, ${old}
        where not exists (select 1 from messages_fts_pending where id = old.rowid);
      delete from messages_fts_pending where id = old.rowid;
    end`.execute(db);
  await sql`create trigger messages_fts_update after update of ${list} on messages
      when not exists (select 1 from messages_fts_pending where id = old.rowid) begin
      insert into messages_fts (messages_fts, rowid, ${list}) values ('delete', old.rowid, ${old});
      insert into messages_fts (rowid, ${list}) values (new.rowid, ${fresh});
    end`.execute(db);
}
