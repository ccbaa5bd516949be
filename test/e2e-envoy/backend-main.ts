/**
 * A backend behind Envoy, as most applications are: an HTTP/1.1 server that answers every
 * request and, on SIGTERM, exits at once (the default for a process that does not handle the
 * signal, and what a container's PID 1 without a handler does). Listens on the port given as
 * its argument (0: any) and prints `{"port":N}` once it does. Its keep-alive timeout is Node's
 * default (5 s): Envoy keeps idle pooled connections to a host open until the backend closes
 * them.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  });
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  if (typeof address === 'object' && address) process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
