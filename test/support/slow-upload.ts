import { connect, type Socket } from 'node:net';

const BOUNDARY = 'histeq-slow-boundary';

/**
 * A raw connection that sends the headers and the start of a multipart upload, then stops:
 * resolves with what the server wrote back once it closes the connection (bounded by `ms`).
 */
export function stalledUpload(
  url: string,
  ms: number,
  headers: Record<string, string> = {},
): { closed: Promise<string>; socket: Socket } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const head =
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="slow.png"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  socket.write(
    `POST /upload HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
      `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      `Content-Length: ${head.length + 100_000}\r\n\r\n${head}${'x'.repeat(1000)}`,
  );
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  const closed = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not dropped within ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.once('error', () => undefined);
  });
  return { closed, socket };
}
