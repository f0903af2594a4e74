import fc from 'fast-check';

/** Marks a field left out of a generated object. */
const MISSING = Symbol('missing');

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const control = fc
  .integer({ min: 0, max: 0x9f })
  .filter((c) => c < 0x20 || c >= 0x7f)
  .map((c) => String.fromCharCode(c));

/** Strings an attacker or a broken client sends. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.oneof(
        control,
        loneSurrogate,
        fc.constantFrom('a', 'é', '中', '\u{1F600}', '\uFEFF', '\u200B'),
      ),
      maxLength: 20,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\uD800',
      'x\uDFFFy',
      '\u202Eevil',
      '\r\n\r\nHTTP/1.1 200 OK',
      "' OR '1'='1",
      '"; drop table users; --',
      "'); delete from messages; --",
      '%00',
      '%s%s%s%n',
      '../../../../etc/passwd',
      '<script>alert(1)</script>',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection probe, meant literally.
      '${7*7}',
      '__proto__',
      'constructor',
      'null',
      'NaN',
      '-1',
      '1e309',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '\u{1F600}'.repeat(4001),
      ' '.repeat(5000),
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 9000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 3990, maxLength: 4010 }) },
);

/** Numbers where strings go, and numbers far outside every range. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    0.5,
    -0,
    1.5,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53 + 2,
    1e308,
    -1e308,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** JSON nested `depth` levels deep: arrays or objects. */
export function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Any JSON value a field may receive instead of the right one. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { weight: 5, arbitrary: hostileString },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileString, tie('value'), { maxKeys: 3 }) },
    { weight: 1, arbitrary: fc.integer({ min: 10, max: 2000 }).map((n) => JSON.parse(deep(n, 'array'))) },
    { weight: 1, arbitrary: fc.array(fc.uuid(), { minLength: 0, maxLength: 600 }) },
  ),
})).value;

/**
 * Objects shaped after a valid input: each field kept, dropped, or replaced
 * by a hostile value, with extra fields (prototype keys among them) mixed in.
 * Now and then the whole input is something other than an object.
 */
export function hostileInput(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const fields = Object.fromEntries(
    Object.entries(valid).map(([key, value]) => [
      key,
      fc.oneof(
        { weight: 2, arbitrary: fc.constant(value) },
        { weight: 1, arbitrary: fc.constant(MISSING) },
        { weight: 3, arbitrary: hostileValue },
      ),
    ]),
  );
  const extra = fc.dictionary(
    fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'sender_id', 'type', 'id'),
      hostileString,
    ),
    hostileValue,
    { maxKeys: 2 },
  );
  const shaped = fc.tuple(fc.record(fields), extra).map(([picked, more]) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(more))
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    for (const [key, value] of Object.entries(picked)) if (value !== MISSING) out[key] = value;
    return out;
  });
  return fc.oneof({ weight: 9, arbitrary: shaped }, { weight: 1, arbitrary: hostileValue });
}

/** Request bodies that are not JSON objects at all, sent as application/json. */
export const hostileBodyText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    '{"a":',
    'nul',
    '[1,2',
    '{"a":1}}',
    '\u0000',
    '{"__proto__":{"admin":true}}',
    'true',
    '1e999',
  ),
  fc.integer({ min: 100, max: 100_000 }).map((n) => deep(n, 'array')),
  fc.integer({ min: 100, max: 20_000 }).map((n) => deep(n, 'object')),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constant(`{"content":"${'x'.repeat(300 * 1024)}"}`),
);

/** Values for an Authorization header that fetch can send (visible ASCII, space and tab). */
export const hostileAuthorization: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => `Bearer ${s}`),
    fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c', 'Bearer ..', 'Bearer x y z'),
    fc.integer({ min: 100, max: 8000 }).map((n) => `Bearer ${'a'.repeat(n)}`),
  )
  .filter((s) => /^[\t\x20-\x7e]*$/.test(s));
