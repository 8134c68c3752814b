import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy between ZooKeeper clients and a server, to break the network on cue:
 * `freeze()` stalls the open connections (bytes stop both ways, sockets stay open: a hung
 * link), `partition()` also refuses new ones until `heal()`.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #bytesPerSecond: number | undefined;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  #partitioned = false;

  private constructor(server: Server, bytesPerSecond: number | undefined) {
    this.#server = server;
    this.#bytesPerSecond = bytesPerSecond;
  }

  /** `bytesPerSecond` slows what clients send (a slow uplink); answers are not slowed. */
  static async start(
    targetHost: string,
    targetPort: number,
    options: { bytesPerSecond?: number } = {},
  ): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, options.bytesPerSecond);
    server.on('connection', (client) => proxy.#pipe(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get connectionString(): string {
    const address = this.#server.address();
    return `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  /** Stops forwarding on every open connection; new connections still work. */
  freeze(): void {
    for (const pair of this.#pairs) pair.frozen = true;
  }

  /** Freezes open connections and refuses new ones, like a network partition. */
  partition(): void {
    this.#partitioned = true;
    this.freeze();
  }

  /** New connections work again (frozen ones stay frozen until their owners drop them). */
  heal(): void {
    this.#partitioned = false;
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket, host: string, port: number): void {
    if (this.#partitioned) {
      client.destroy();
      return;
    }
    const upstream = connect({ host, port });
    const pair = { client, upstream, frozen: false };
    this.#pairs.add(pair);
    const rate = this.#bytesPerSecond;
    client.on('data', (chunk) => {
      if (!pair.frozen) upstream.write(chunk);
      if (rate) {
        client.pause();
        setTimeout(() => client.resume(), (chunk.length / rate) * 1000);
      }
    });
    upstream.on('data', (chunk) => {
      if (!pair.frozen) client.write(chunk);
    });
    // A close on either side is passed on even when frozen: a server that expires a session
    // closes its socket, and the client must see that to reconnect.
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }
}
