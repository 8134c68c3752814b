import http from 'node:http';

/** HTTP as a hostile or careful client sends it, for the web server's tests. */

/** Polls `condition` every 10 ms; fails after `timeoutMs`. */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with the path sent exactly as written (fetch would normalize `..`). */
export function raw(
  base: string,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer[] } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers: options.headers, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.path = path;
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    for (const chunk of options.body ?? []) req.write(chunk);
    req.end();
  });
}

export const BOUNDARY = 'histeq-test-boundary';

export type Part =
  { name: string; value: string } | { name: string; filename: string; data: Buffer };

export function multipart(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      'filename' in part
        ? `form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: application/octet-stream`
        : `form-data; name="${part.name}"`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n\r\n`));
    chunks.push('filename' in part ? part.data : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

export function postForm(base: string, parts: Part[], chunked = false): Promise<RawResponse> {
  const body = multipart(parts);
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
  };
  if (!chunked) headers['Content-Length'] = body.length;
  // Chunked bodies go out in pieces, so the server sees the size only while reading.
  const pieces = chunked
    ? Array.from({ length: Math.ceil(body.length / 16384) }, (_, i) =>
        body.subarray(i * 16384, (i + 1) * 16384),
      )
    : [body];
  return raw(base, '/upload', { method: 'POST', headers, body: pieces });
}

export const image = (bytes = 1000) => Buffer.alloc(bytes, 7);
export const errorOf = (res: RawResponse) => (JSON.parse(res.body) as { error: string }).error;
