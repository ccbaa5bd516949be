/**
 * Which node a client certificate may speak for. With mutual TLS, the certificate proves who
 * the client is, but the node id in its first discovery request is only what it says it is: a
 * template ties the two together, so one Envoy cannot take another's listeners or drain state.
 *
 * The template is matched against each URI and DNS subject alternative name of the client
 * certificate; one match lets the stream in. In it, `{node.id}` and `{node.cluster}` stand
 * for the node's id and cluster (matched literally), `*` for one or more characters other
 * than `/`; everything else must be equal. So `{node.id}` wants a SAN equal to the node id,
 * and a SPIFFE id template can leave the namespace open with `*` (README: TLS and mTLS).
 */
import type { PeerCertificate } from 'node:tls';
import type { ClaimedNode, NodeAuthorizer } from '../xds/discovery-stream.js';

const PLACEHOLDER = /\{([^}]*)\}/g;
const NODE_FIELDS = { 'node.id': (n: ClaimedNode) => n.id, 'node.cluster': (n: ClaimedNode) => n.cluster } as const;
type NodeField = keyof typeof NODE_FIELDS;

/** Parses the template; throws an Error that says what is wrong with it. */
export function nodeIdentityAuthorizer(template: string): NodeAuthorizer {
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  const unknown = names.find((name) => !(name in NODE_FIELDS));
  if (unknown !== undefined) throw new Error(`unknown placeholder {${unknown}} in "${template}" (known: {node.id}, {node.cluster})`);
  // Without a placeholder, any certificate the CA signed that matches could claim any node.
  if (names.length === 0) throw new Error(`"${template}" names neither {node.id} nor {node.cluster}`);
  return (node, certificate) => {
    const identities = certificate ? certificateIdentities(certificate) : [];
    const pattern = templatePattern(template, node);
    if (identities.some((identity) => pattern.test(identity))) return undefined;
    const presented = identities.length === 0 ? 'no URI or DNS name' : identities.join(', ');
    const expected = template.replace(PLACEHOLDER, (_m, name: NodeField) => NODE_FIELDS[name](node));
    return `node "${node.id}" refused: its client certificate (${presented}) does not match ${expected}`;
  };
}

function templatePattern(template: string, node: ClaimedNode): RegExp {
  let source = '';
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    source += literal(template.slice(last, m.index)) + escape(NODE_FIELDS[m[1] as NodeField](node));
    last = m.index + m[0].length;
  }
  return new RegExp(`^${source}${literal(template.slice(last))}$`);
}

/** Template text outside placeholders: `*` is a wildcard, the rest literal. */
function literal(text: string): string {
  return text.split('*').map(escape).join('[^/]+');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The URI and DNS subject alternative names of a certificate, from Node's `subjectaltname`
 * text: `DNS:a, URI:b, IP Address:c`, where a value with a comma or quote in it is written as
 * a JSON string (`URI:"spiffe://x\u002cy"`), so that no certificate can forge an extra entry.
 */
export function certificateIdentities(certificate: PeerCertificate): string[] {
  const text = certificate.subjectaltname ?? '';
  const entry = /([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
  const names: string[] = [];
  let m: RegExpExecArray | null;
  while (entry.lastIndex < text.length && (m = entry.exec(text)) !== null) {
    const value = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    if (m[1] === 'URI' || m[1] === 'DNS') names.push(value);
  }
  return names;
}
