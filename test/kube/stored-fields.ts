/**
 * Compares an object as a manifest writes it with the object the API server stored: every field
 * written must be stored with the same value. Fields only in the stored object (defaults, status,
 * metadata the server adds) are allowed; a list must keep its length and order.
 */
export function writtenFieldsMissing(written: unknown, stored: unknown, at = ''): string[] {
  if (Array.isArray(written)) {
    if (!Array.isArray(stored) || stored.length !== written.length)
      return [`${at}: written ${JSON.stringify(written)}, stored ${JSON.stringify(stored)}`];
    return written.flatMap((w, i) => writtenFieldsMissing(w, stored[i], `${at}[${i}]`));
  }
  if (typeof written === 'object' && written !== null) {
    if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return [`${at}: written an object, stored ${JSON.stringify(stored)}`];
    const fields = stored as Record<string, unknown>;
    return Object.entries(written).flatMap(([k, w]) => writtenFieldsMissing(w, fields[k], `${at}.${k}`));
  }
  return written === stored ? [] : [`${at}: written ${JSON.stringify(written)}, stored ${JSON.stringify(stored)}`];
}
