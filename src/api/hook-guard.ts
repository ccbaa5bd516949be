import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A preStop hook starts a drain with a GET and without a token (the kubelet's httpGet hook and
 * `drainplane prestop` carry none), so a web page must not be able to fire it (an <img> would
 * do): a request a browser marks as coming from a page (Sec-Fetch-Site other than "none", or an
 * Origin) is refused. The kubelet and the CLI send neither.
 */
export async function refuseFromWebPages(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const site = req.headers['sec-fetch-site'];
  if ((site === undefined || site === 'none') && req.headers.origin === undefined) return;
  await reply.code(403).send({
    error: 'cross_site_prestop',
    message: `GET ${req.url}: refused a request from a web page (Sec-Fetch-Site: ${String(site)}, Origin: ${String(req.headers.origin)}); preStop hooks send neither`,
  });
}
