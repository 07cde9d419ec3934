/** Raw HTTP over a socket, for what fetch cannot send: slow, malformed or ambiguous requests. */
import net from 'node:net';

/** Opens a socket, writes `data` (chunks with pauses when an array of [text, delayMs]), and resolves with what came back and how long until close. */
export function rawExchange(port: number, data: string | Array<[string, number]>, waitMs: number): Promise<{ received: string; closedAfterMs: number | null }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let received = '';
    const socket = net.connect(port, '127.0.0.1', async () => {
      if (typeof data === 'string') {
        socket.write(data);
        return;
      }
      for (const [chunk, delay] of data) {
        if (socket.destroyed) return;
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, delay));
      }
    });
    socket.on('data', (d) => (received += d));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closedAfterMs: null });
    }, waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closedAfterMs: Date.now() - started });
    });
  });
}

/** The status code of the first final (non-1xx) response in raw HTTP text, if any. */
export function statusOf(received: string): number | undefined {
  for (const match of received.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)) {
    const status = Number(match[1]);
    if (status >= 200) return status;
  }
  return undefined;
}
