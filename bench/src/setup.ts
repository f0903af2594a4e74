import { randomBytes, randomUUID } from 'node:crypto';
import { HttpClient } from './http.ts';
import { log, mapLimit } from './util.ts';

export const PASSWORD = 'bench password 0123';

export interface Member {
  userId: string;
  username: string;
  token: string;
}

export interface ConversationSpec {
  id: string;
  /** Every member, the creator first; each member belongs to this conversation only. */
  members: Member[];
}

function expect<T>(what: string, reply: { status: number; body: T }, status: number): T {
  if (reply.status !== status) throw new Error(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/**
 * Signs up and logs in `conversations × members` users over REST, then has
 * the first member of each group create its conversation with the others.
 */
export async function createPopulation(
  baseUrl: string,
  options: { conversations: number; members: number; concurrency?: number },
): Promise<ConversationSpec[]> {
  const http = new HttpClient(baseUrl, 32);
  const concurrency = options.concurrency ?? 8;
  const nonce = randomBytes(4).toString('hex');
  const count = options.conversations * options.members;
  const start = performance.now();
  try {
    const users = await mapLimit(
      Array.from({ length: count }, (_, i) => `b${nonce}_${i}`),
      concurrency,
      async (username): Promise<Member> => {
        const signup = expect(
          'signup',
          await http.post<{ id: string }>('/auth/signup', { username, password: PASSWORD }),
          201,
        );
        const login = expect(
          'login',
          await http.post<{ access_token: string }>('/auth/login', { username, password: PASSWORD }),
          200,
        );
        return { userId: signup.id, username, token: login.access_token };
      },
    );
    const groups = Array.from({ length: options.conversations }, (_, c) =>
      users.slice(c * options.members, (c + 1) * options.members),
    );
    const specs = await createConversations(http, groups, concurrency);
    log(
      `population: ${count} users in ${options.conversations} conversations (${((performance.now() - start) / 1000).toFixed(1)} s)`,
    );
    return specs;
  } finally {
    http.close();
  }
}

/** The first member of each group creates its conversation with the others. */
async function createConversations(
  http: HttpClient,
  groups: Member[][],
  concurrency: number,
): Promise<ConversationSpec[]> {
  return mapLimit(groups, concurrency, async (members, c): Promise<ConversationSpec> => {
    const [creator, ...others] = members;
    const created = expect(
      'create conversation',
      await http.post<{ id: string }>(
        '/conversations',
        { title: `bench ${c}`, member_ids: others.map((m) => m.userId) },
        creator!.token,
      ),
      201,
    );
    return { id: created.id, members };
  });
}

/**
 * The same users (their accounts already copied into this server's database,
 * so their tokens work) in the same groups, with the conversations created
 * afresh on this server.
 */
export async function recreateConversations(
  baseUrl: string,
  population: ConversationSpec[],
): Promise<ConversationSpec[]> {
  const http = new HttpClient(baseUrl, 32);
  const start = performance.now();
  try {
    const specs = await createConversations(
      http,
      population.map((c) => c.members),
      8,
    );
    log(
      `population: ${population.length} conversations of copied users (${((performance.now() - start) / 1000).toFixed(1)} s)`,
    );
    return specs;
  } finally {
    http.close();
  }
}

/**
 * Users and conversations the baseline accepts without being told of them
 * (its token is the user id): for measuring a fresh baseline process that has
 * served nothing but the sockets being measured.
 */
export function syntheticPopulation(options: { conversations: number; members: number }): ConversationSpec[] {
  return Array.from({ length: options.conversations }, (_, c) => ({
    id: randomUUID(),
    members: Array.from({ length: options.members }, (_, m) => {
      const userId = randomUUID();
      return { userId, username: `synthetic_${c}_${m}`, token: userId };
    }),
  }));
}
