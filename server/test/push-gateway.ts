/**
 * A fake push gateway on 127.0.0.1 for the push tests (push-gateway push_notifier.yaml,
 * POST /_matrix/push/v1/notify): it records every call and answers with `answer(call index)`,
 * by default a 200 rejecting nothing. Tests wait either for a number of calls (`waitFor`) or for
 * the next call whose body matches (`next`), so pokes the test does not care about can be skipped.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PushGatewayCall {
  path: string | undefined;
  body: any;
}

export interface PushGateway {
  url: string;
  received: PushGatewayCall[];
  /** Resolves once at least `n` calls arrived; throws after 5 s. */
  waitFor(n: number): Promise<void>;
  /** The body of the first call after the last one `next` returned whose body matches; throws after 5 s. */
  next(match: (body: any) => boolean): Promise<any>;
}

const OK = { status: 200, body: { rejected: [] } };

export async function gateway(
  t: { after(fn: () => unknown): void },
  answer: (i: number) => { status: number; body: unknown } = () => OK,
): Promise<PushGateway> {
  const received: PushGatewayCall[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const a = answer(received.length);
      received.push({ path: req.url, body: JSON.parse(data) });
      res.writeHead(a.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(a.body));
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections();
      }),
  );
  // Wakes on the next call, or after 100 ms at the latest.
  const nextCall = () =>
    new Promise<void>((r) => {
      waiters.push(r);
      setTimeout(r, 100);
    });
  let seen = 0;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/_matrix/push/v1/notify`,
    received,
    async waitFor(n) {
      const deadline = Date.now() + 5000;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`gateway got ${received.length} of ${n} calls`);
        await nextCall();
      }
    },
    async next(match) {
      for (const deadline = Date.now() + 5000; Date.now() < deadline; await nextCall()) {
        const i = received.findIndex((c, j) => j >= seen && match(c.body));
        if (i >= 0) {
          seen = i + 1;
          return received[i]!.body;
        }
      }
      throw new Error(`no matching push among ${JSON.stringify(received.map((c) => c.body))}`);
    },
  };
}
