import { FileLinkInput } from '../schemas/files.schema.ts';
import { linkFile } from '../services/files.service.ts';
import { authedProcedure, router } from '../trpc.ts';

/** Uploads and downloads are streams over plain HTTP (`POST /files`, `GET /files/{id}`); this is what fits a call. */
export const filesRouter = router({
  /** A download URL that needs no Authorization header (for `<img>`), for the caller and this file, expiring. */
  link: authedProcedure
    .input(FileLinkInput)
    .query(({ ctx, input }) => linkFile(ctx.deps, ctx.user.id, input.id)),
});
