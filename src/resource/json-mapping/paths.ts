/**
 * Error paths: `a.b[2]["map key"]`. Names that are not identifiers (map keys, "@type", odd unknown
 * fields) are bracketed and quoted so that a path can always be read back unambiguously.
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
