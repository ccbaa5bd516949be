/** One HTTPS GET through an Envoy listener, with the certificate it presented. */
import { request, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The connection it came on (a keep-alive agent reuses it). */
  readonly socket: TLSSocket;
  /** The serial number of the server's certificate, upper-case hex. */
  readonly serial: string;
}

export interface HttpsTarget {
  readonly port: number;
  readonly path: string;
  /** The CA that signed the listener's certificate, which must name `localhost`. */
  readonly ca: string;
  /** A keep-alive agent to reuse a connection; a new connection by default. */
  readonly agent?: Agent;
}

export function httpsGet(target: HttpsTarget): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const { port, path, ca, agent = false } = target;
    const req = request({ host: '127.0.0.1', port, path, agent, ca, servername: 'localhost' }, (res) => {
      const socket = res.socket as TLSSocket;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers, socket, serial: socket.getPeerCertificate().serialNumber }),
      );
    });
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}
