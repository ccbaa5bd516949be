/**
 * Paths into a document, shared by JSON mapping errors and constraint violations so both point
 * at a config the same way: `a.b[2]["map key"]`. Names that are not identifiers (map keys,
 * "@type", odd unknown fields) are bracketed and quoted so a path always reads back unambiguously.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function fieldPath(base: string, name: string): string {
  if (!IDENTIFIER.test(name)) return keyPath(base, name);
  return base === '' ? name : `${base}.${name}`;
}

export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

export function keyPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}
