import { accountRouter } from './routers/account.ts';
import { authRouter } from './routers/auth.ts';
import { conversationsRouter } from './routers/conversations.ts';
import { eventsRouter } from './routers/events.ts';
import { filesRouter } from './routers/files.ts';
import { messagesRouter } from './routers/messages.ts';
import { usersRouter } from './routers/users.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  auth: authRouter,
  account: accountRouter,
  users: usersRouter,
  conversations: conversationsRouter,
  messages: messagesRouter,
  events: eventsRouter,
  files: filesRouter,
});

export type AppRouter = typeof appRouter;
