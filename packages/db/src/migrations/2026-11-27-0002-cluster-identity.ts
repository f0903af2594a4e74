import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * A random id for this database, made once. Instances on the same database
 * share it, so it names their Redis channels: two deployments on one Redis
 * never hear each other.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.insertInto('meta').values({ key: 'cluster_id', value: randomUUID() }).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('meta').execute();
}
