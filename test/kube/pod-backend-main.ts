/**
 * A backend pod's process, run inside its network namespace: an HTTP/1.1 server on the pod's
 * address that answers every request with its name, after `?ms=N` milliseconds when asked (a
 * request still in progress when the pod is deleted; its headers, naming the pod, come at once).
 * Like most applications it has no SIGTERM
 * handler: it exits at once, so whatever Envoy still sends it then fails.
 * Arguments: NAME HOST PORT. Prints `listening` once it listens.
 */
import { createServer } from 'node:http';

const [name = 'backend', host = '0.0.0.0', port = '8080'] = process.argv.slice(2);
const server = createServer((req, res) => {
  const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
  req.resume();
  // The headers go out at once (saying which pod answers), the body after the delay.
  res.writeHead(200, { 'content-type': 'text/plain', 'x-pod': name });
  res.flushHeaders();
  setTimeout(() => res.end(name), ms);
});
server.listen(Number(port), host, () => process.stdout.write('listening\n'));
process.once('SIGTERM', () => process.exit(0));
