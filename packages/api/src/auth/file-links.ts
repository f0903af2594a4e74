import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed download links for one file and one user, which expire: what an
 * `<img>` tag can use, since it cannot send an Authorization header. The
 * access token never goes into a URL. The download still checks that the
 * user can see the file, so a link stops working when they leave the
 * conversation or the message is deleted, whatever its expiry.
 */
export class FileLinks {
  readonly #key: Buffer;
  constructor(
    secret: string,
    /** How long a link works. Default 3600 s. */
    readonly ttlSeconds = 3600,
  ) {
    // A key of its own, derived from the secret: a link's MAC is never a token's.
    this.#key = createHmac('sha256', secret).update('pneumatic file links').digest();
  }

  #mac(fileId: string, userId: string, exp: number): string {
    return createHmac('sha256', this.#key).update(`${fileId}\n${userId}\n${exp}`).digest('base64url');
  }

  /**
   * A link parameter for `fileId` and `userId`. Expiry is rounded up to a
   * whole ttl/2 window so the same image keeps the same URL (and the
   * browser's cache) for a while.
   */
  sign(fileId: string, userId: string, now = Date.now()): { access: string; expiresAt: Date } {
    const step = Math.max(1, Math.floor(this.ttlSeconds / 2));
    const exp = (Math.floor(now / 1000 / step) + 2) * step;
    return { access: `${userId}.${exp}.${this.#mac(fileId, userId, exp)}`, expiresAt: new Date(exp * 1000) };
  }

  /** The user a link parameter was signed for, or null when it is forged, for another file, or expired. */
  verify(fileId: string, access: string, now = Date.now()): string | null {
    const [userId, expText, mac, ...rest] = access.split('.');
    if (!userId || !expText || !mac || rest.length > 0 || !/^\d{1,12}$/.test(expText)) return null;
    const exp = Number(expText);
    if (exp * 1000 <= now) return null;
    const expected = Buffer.from(this.#mac(fileId, userId, exp));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? userId : null;
  }
}
