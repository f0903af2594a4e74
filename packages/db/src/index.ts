export * from './create-database.ts';
export type * from './database.ts';
export { EVENT_KINDS, type EventKind, type OfEventKinds } from './event-kinds.ts';
export { databaseFileStore, diskFileStore, FILE_CHUNK_BYTES, type FileStore } from './file-store.ts';
export { type MessageStore, type NewMessage, newMessageRow, type StoreOutcome } from './message-store.ts';
export { dropEverything, type MigrationReport, migrateToLatest, pendingMigrations } from './migrate.ts';
export {
  type DatabaseOutage,
  DatabaseUnavailableError,
  databaseOutage,
  findOutage,
  OUTAGE_MESSAGES,
} from './outage.ts';
export type { ConversationSummary } from './repositories/conversations.repository.ts';
export * as conversationsRepository from './repositories/conversations.repository.ts';
export * as filesRepository from './repositories/files.repository.ts';
export type { LogEntry } from './repositories/log.repository.ts';
export * as logRepository from './repositories/log.repository.ts';
export type { HistoryPage } from './repositories/messages.repository.ts';
export * as messagesRepository from './repositories/messages.repository.ts';
export type { SearchHit } from './repositories/search.repository.ts';
export * as searchRepository from './repositories/search.repository.ts';
export * as sessionsRepository from './repositories/sessions.repository.ts';
export type { PublicUser } from './repositories/users.repository.ts';
export * as usersRepository from './repositories/users.repository.ts';
export { SqliteWriter } from './sqlite-writer.ts';
