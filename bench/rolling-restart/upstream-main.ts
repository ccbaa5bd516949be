/**
 * The app behind both replicas (and the dependency their pods call out to), in a process of its
 * own so that the benchmark's event loop and the app's do not slow each other down. Prints
 * `{"port":N}` once it listens; stops on SIGTERM.
 */
import { Http1Upstream } from '../../test/e2e-envoy/upstreams.js';

const upstream = await Http1Upstream.start();
process.stdout.write(`${JSON.stringify({ port: upstream.port })}\n`);
process.once('SIGTERM', () => void upstream.close().then(() => process.exit(0)));
