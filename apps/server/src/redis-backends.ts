// Everything a server sharing state through Redis needs, in one module that
// app.ts loads only when REDIS_URL is set: a single instance never loads ioredis.
export { connectRedis, waitUntilReady } from './redis.ts';
export { RedisEventBus } from './redis-event-bus.ts';
export { RedisPresenceStore } from './redis-presence.ts';
