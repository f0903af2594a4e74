import { z } from 'zod';
import {
  ChangePasswordInput,
  DeleteAccountInput,
  LoginSession,
  RenameInput,
  SessionIdInput,
} from '../schemas/account.schema.ts';
import { PublicUser } from '../schemas/common.ts';
import * as account from '../services/account.service.ts';
import { authedProcedure, router } from '../trpc.ts';

/** The caller's own account: password, logins, display name, deletion. */
export const accountRouter = router({
  /** Needs the current password; every other login is signed out, this one stays. */
  changePassword: authedProcedure
    .input(ChangePasswordInput)
    .output(z.void())
    .mutation(({ ctx, input }) => account.changePassword(ctx.deps, ctx, input)),
  sessions: authedProcedure
    .output(z.array(LoginSession))
    .query(({ ctx }) => account.listSessions(ctx.deps, ctx)),
  /** Signs out one of the caller's logins; anyone else's answers NOT_FOUND like an unknown id. */
  revokeSession: authedProcedure
    .input(SessionIdInput)
    .output(z.void())
    .mutation(({ ctx, input }) => account.revokeSession(ctx.deps, ctx, input.session_id)),
  rename: authedProcedure
    .input(RenameInput)
    .output(PublicUser)
    .mutation(({ ctx, input }) => account.rename(ctx.deps, ctx, input)),
  /** Needs the password; every login ends at once. Messages stay, from "Deleted user". */
  delete: authedProcedure
    .input(DeleteAccountInput)
    .output(z.void())
    .mutation(({ ctx, input }) => account.deleteAccount(ctx.deps, ctx, input)),
});
