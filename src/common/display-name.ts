/**
 * A user's file name made safe to show and log: the last path segment only, no control or
 * format characters (CR/LF, bidi overrides), trimmed and bounded. For display only: the server
 * never uses it as a path.
 */
export function displayName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\p{Cc}\p{Cf}]/gu, '').trim();
  return (clean || 'image').slice(0, 200);
}
