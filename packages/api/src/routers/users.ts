import { usersRepository } from '@pneumatic/db';
import { authedProcedure, router } from '../trpc.ts';

export const usersRouter = router({
  /** Everyone but the caller, by username. */
  list: authedProcedure.query(({ ctx }) =>
    usersRepository.listUsersExcept(ctx.deps.database.db, ctx.user.id),
  ),
});
