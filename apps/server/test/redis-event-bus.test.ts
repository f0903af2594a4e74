import { randomUUID } from 'node:crypto';
import type { BusEvent } from '@pneumatic/api';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';
import { RedisEventBus } from '../src/redis-event-bus.ts';
import { Inbox, sleep } from './helpers/sockets.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('the Redis event bus reading what other instances publish', () => {
  const clusterId = randomUUID();
  const channel = `pneumatic:${clusterId}:events`;
  const heard = new Inbox<BusEvent>();
  let bus: RedisEventBus;
  let other: Redis;
  beforeAll(async () => {
    bus = new RedisEventBus(REDIS_URL, clusterId, createLogger('silent'));
    bus.subscribe((event) => heard.push(event));
    other = new Redis(REDIS_URL);
    // Publishing before the subscription is in place would lose the message.
    while (((await other.pubsub('NUMSUB', channel)) as [string, number])[1] < 1) await sleep(10);
  });
  afterAll(async () => {
    await bus.close();
    other.disconnect();
  });

  it('hears the kinds instances from before the rename publish under their new names', async () => {
    await other.publish(
      channel,
      JSON.stringify({ kind: 'session.revoked', session_id: 's1', user_id: 'u1' }),
    );
    const message = { id: 'm1' };
    await other.publish(
      channel,
      JSON.stringify({ kind: 'message.updated', pos: 7, recipients: [], message }),
    );
    expect(await heard.count(2)).toEqual([
      { kind: 'session_revoked', session_id: 's1', user_id: 'u1' },
      { kind: 'message_updated', pos: 7, recipients: [], message },
    ]);
  });

  it('drops messages that are not JSON or not of a known kind', async () => {
    heard.items.length = 0;
    for (const payload of ['not json', 'null', '{"pos":8}', '{"kind":"message.edited","pos":8}']) {
      await other.publish(channel, payload);
    }
    const marker = { kind: 'presence', recipients: [], user_id: 'u1', online: true };
    await other.publish(channel, JSON.stringify(marker));
    // Redis delivers in publish order: once the marker is here, the others were read.
    expect(await heard.count(1)).toEqual([marker]);
  });
});
