/**
 * Cutting what clients send down to a bound, keeping the head and saying so in what is kept:
 * a reader of the API or the logs sees that text was cut and how long it was.
 */

/** 1536 -> "1.5 KiB", 4089446 -> "3.9 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** The marker that ends a cut text. */
export function truncationMarker(originalBytes: number): string {
  return ` … [truncated: ${formatBytes(originalBytes)}]`;
}

/**
 * `text` if it has at most `maxBytes` bytes (UTF-8); otherwise its first `maxBytes` bytes (never
 * half a character) followed by a marker with the original size, e.g. "… [truncated: 3.9 MiB]".
 */
export function truncateText(text: string, maxBytes: number): string {
  // A character takes at most 3 UTF-8 bytes per UTF-16 unit: short strings need no count.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return text;
  return headOf(text, maxBytes) + truncationMarker(bytes);
}

/** The longest prefix of `text` with at most `maxBytes` UTF-8 bytes. */
function headOf(text: string, maxBytes: number): string {
  const head = Buffer.from(text.slice(0, maxBytes)).toString('utf8', 0, maxBytes);
  // A character cut in two decodes as U+FFFD: drop it.
  const last = head.length - 1;
  return head.charCodeAt(last) === 0xfffd && text.charCodeAt(last) !== 0xfffd ? head.slice(0, last) : head;
}

/**
 * A string a client sent, for a log line or an error message: at most `maxChars` characters,
 * then "…". Nonces, type URLs and versions are short when honest.
 */
export function clip(text: string, maxChars = 128): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}

/** The key added to metadata that was cut; its value says how much there was. */
export const METADATA_TRUNCATED_KEY = 'drainplane.truncated';

export interface BoundedMetadata {
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Bytes of the metadata kept, as JSON. */
  readonly bytes: number;
}

/**
 * Node metadata within `maxBytes` of JSON. Within the bound it is returned as it is. Beyond it,
 * its first top-level keys (in name order, as Struct fields are decoded) are kept while they fit; the first that does not is cut too if it is
 * a string, and dropped otherwise; every later key is dropped; and METADATA_TRUNCATED_KEY says
 * so ("… [truncated: 3.9 MiB]; 2 of 7 keys kept"). Each value is serialized once.
 */
export function boundMetadata(metadata: Readonly<Record<string, unknown>>, maxBytes: number): BoundedMetadata {
  const entries = Object.entries(metadata);
  const sizes = entries.map(([key, value]) => Buffer.byteLength(JSON.stringify(key)) + 1 + Buffer.byteLength(JSON.stringify(value) ?? 'null'));
  // Braces and the commas between entries.
  const total = sizes.reduce((sum, size) => sum + size + 1, 1);
  if (total <= maxBytes) return { metadata, bytes: total };
  // Room for the marker entry, which names the sizes.
  const budget = maxBytes - 128;
  const kept: Record<string, unknown> = {};
  let used = 1;
  let count = 0;
  for (const [i, [key, value]] of entries.entries()) {
    const size = sizes[i]! + 1;
    if (used + size <= budget) {
      kept[key] = value;
      used += size;
      count += 1;
      continue;
    }
    const room = budget - used - Buffer.byteLength(JSON.stringify(key)) - 64;
    if (typeof value === 'string' && room > 0) {
      kept[key] = truncateText(value, room);
      used += Buffer.byteLength(JSON.stringify(kept[key])) + Buffer.byteLength(JSON.stringify(key)) + 2;
    }
    break;
  }
  const note = `${truncationMarker(total).trimStart()}; ${count} of ${entries.length} keys kept whole`;
  kept[METADATA_TRUNCATED_KEY] = note;
  return { metadata: kept, bytes: used + METADATA_TRUNCATED_KEY.length + note.length + 6 };
}
