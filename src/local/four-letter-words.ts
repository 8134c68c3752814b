import { connect } from 'node:net';
import { HisteqError } from '../common/errors.js';

/**
 * Four-letter words the server answers: only `srvr` (readiness) and `ruok` (liveness), as in
 * the Kubernetes manifests. The others (`dump`, `cons`, `wchc`, `conf`…) list every session,
 * client address and watched path to anyone who can reach the port; tests that inspect watches
 * ask for `wchc` explicitly.
 */
export const DEFAULT_FOUR_LETTER_WORDS: readonly string[] = ['srvr', 'ruok'];

/** Sends a four-letter word to a ZooKeeper server and resolves with its whole answer. */
export function fourLetterWord(
  host: string,
  port: number,
  word: string,
  timeoutMs = 2_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new HisteqError('ZK_TIMEOUT', `no answer to '${word}' from ${host}:${port}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(word));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}
