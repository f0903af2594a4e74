import { SignJWT } from 'jose';
import { TEST_SECRET } from './server.ts';

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a JWT's payload without verifying it. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}

/** The same claims, with `alg: none` and no signature. */
export function unsignedCopy(token: string): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claimsOf(token))}.`;
}

/** A token with the given claims, signed with `secret` (the server's by default). */
export async function sign(claims: Record<string, unknown>, secret = TEST_SECRET, header: object = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .sign(new TextEncoder().encode(secret));
}
