import { usersRepository } from '@pneumatic/db';
import { authedProcedure, router } from '../trpc.ts';

export const usersRouter = router({
  /** Everyone but the caller, by username, with whether they are online now. */
  list: authedProcedure.query(async ({ ctx }) => {
    const users = await usersRepository.listUsersExcept(ctx.deps.database.db, ctx.user.id);
    const online = (await ctx.deps.presence?.onlineAmong(users.map((u) => u.id))) ?? new Set<string>();
    return users.map((user) => ({ ...user, online: online.has(user.id) }));
  }),
});
