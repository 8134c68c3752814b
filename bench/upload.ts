import { request } from 'node:http';

/**
 * POST /upload as a browser or curl sends it: the multipart body written in three large writes
 * with a Content-Length. (undici's fetch with FormData streams a Blob in small pieces and needs
 * about 0.3 s on its own to push 64 MB; that is the client's cost, not the cluster's.)
 */
export function postMultipart(
  url: string,
  field: string,
  fileName: string,
  bytes: Uint8Array,
  fields: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const boundary = `----histeq-bench-${Math.random().toString(16).slice(2)}`;
  const parts = Object.entries(fields).map(
    ([name, value]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const head = Buffer.from(
    parts.join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.byteLength + bytes.byteLength + tail.byteLength,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(head);
    req.write(bytes);
    req.end(tail);
  });
}
