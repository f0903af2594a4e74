import { z } from 'zod';
import { LoginInput, RefreshInput, SignupInput } from '../schemas/auth.schema.ts';
import * as auth from '../services/auth.service.ts';
import { authedProcedure, publicProcedure, router } from '../trpc.ts';

export const authRouter = router({
  signup: publicProcedure.input(SignupInput).mutation(({ ctx, input }) => auth.signup(ctx.deps, input)),
  login: publicProcedure.input(LoginInput).mutation(({ ctx, input }) => auth.login(ctx.deps, input, ctx)),
  refresh: publicProcedure
    .input(RefreshInput)
    .mutation(({ ctx, input }) => auth.refresh(ctx.deps, input.refresh_token, ctx)),
  logout: publicProcedure
    .input(RefreshInput)
    .output(z.void())
    .mutation(({ ctx, input }) => auth.logout(ctx.deps, input.refresh_token)),
  me: authedProcedure.query(({ ctx }) => ctx.user),
});
