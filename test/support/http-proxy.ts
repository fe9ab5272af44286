/**
 * A recording, fault-injecting HTTP proxy to put between a real client and a real server
 * (s3rver). Tests use it to see what went over the wire (range and SSE headers, multipart
 * calls) and to make the network misbehave (503s, connection resets) without mocking S3.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** One request as seen by the proxy. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/bucket/key?uploads`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** What the proxy did with it. */
  fate: Fate;
}

/**
 * `forward` to the target; `reset` the connection before answering; `cut` the response
 * after its headers and first few bytes (a connection dying mid-body); or answer with this
 * HTTP status and an S3 error body (503 → ServiceUnavailable, 412 → PreconditionFailed).
 * 503 is sent as ServiceUnavailable rather than S3's usual SlowDown: the SDK backs off 5x
 * longer on throttling codes, which would only slow the tests down.
 */
export type Fate = 'forward' | 'reset' | 'cut' | number;

const ERROR_CODES: Record<number, string> = { 503: 'ServiceUnavailable', 412: 'PreconditionFailed', 500: 'InternalError' };

/** A running proxy. */
export interface HttpProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Every request received so far, in arrival order. */
  requests: RecordedRequest[];
  /** Decide each request's fate; default: forward everything. Replaceable at any time. */
  decide: (req: { method: string; url: string; range?: string }, index: number) => Fate;
  stop(): Promise<void>;
}

/** Start a proxy on a free port forwarding to `target` (an `http://host:port` URL). */
export async function startHttpProxy(target: string): Promise<HttpProxy> {
  const to = new URL(target);
  const proxy: HttpProxy = {
    endpoint: '',
    requests: [],
    decide: () => 'forward',
    stop: async () => {},
  };
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const fate = proxy.decide({ method, url, range: req.headers.range }, proxy.requests.length);
    proxy.requests.push({ method, url, headers: req.headers, fate });
    if (fate === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof fate === 'number') {
      req.resume(); // drain the body so the client sees the answer, not a broken pipe
      const code = ERROR_CODES[fate] ?? 'InjectedError';
      res.writeHead(fate, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>injected by test proxy</Message></Error>`);
      return;
    }
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, method, path: url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (fate === 'cut') {
          up.once('data', (chunk: Buffer) => {
            res.write(chunk.subarray(0, Math.min(100, chunk.length - 1)));
            up.destroy();
            res.socket?.destroy();
          });
          return;
        }
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return proxy;
}
