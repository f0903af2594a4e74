export * from './account.schema.ts';
export * from './auth.schema.ts';
export * from './common.ts';
export * from './conversations.schema.ts';
export * from './events.schema.ts';
export * from './files.schema.ts';
export * from './messages.schema.ts';
