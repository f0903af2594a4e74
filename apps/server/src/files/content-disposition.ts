/**
 * A Content-Disposition value (RFC 6266): `filename` with an ASCII stand-in
 * for old clients, `filename*` with the real name in UTF-8 (RFC 8187). The
 * name is already clean of control characters; quotes and backslashes are
 * replaced in the stand-in, never escaped.
 */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
