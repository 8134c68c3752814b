import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { HisteqError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { isAmbiguous, isZkError, unlessMissing } from './zk-errors.js';
import type { ZkOp } from './zk-multi.js';
import type { ZkSession, ZkSessionState } from './zk-session.js';

export interface LeaderElectionOptions {
  session: ZkSession;
  logger: Logger;
  /** Written into the candidate's data, so anyone can tell who leads. */
  pod: string;
  /** Default `/election`. */
  basePath?: string;
}

export interface LeaderElectionEvents {
  elected: [];
  /** Stop acting as master at once: leadership can no longer be proven. */
  demoted: [reason: string];
}

/** What a candidate node holds. */
export interface CandidateInfo {
  pod: string;
  token: string;
  since: string;
}

/**
 * Candidates are `n_<token>_<seq>`: ZooKeeper appends the 10-digit sequence, the lowest wins.
 * The token (one per LeaderElection) makes our own candidates recognisable from the name
 * alone, so a create whose answer was lost, or a candidate left by our expired session, is
 * found and removed without reading every candidate's data.
 */
const CANDIDATE = /^n_([0-9a-f]{32})_(\d{10})$/;

/**
 * Leader election with ephemeral-sequential candidates; each candidate watches only its
 * predecessor, so a leader's departure wakes exactly one pod.
 */
export class LeaderElection extends EventEmitter<LeaderElectionEvents> {
  readonly #session: ZkSession;
  readonly #log: Logger;
  readonly #pod: string;
  readonly #base: string;
  readonly #token = randomUUID().replaceAll('-', '');
  #candidate: string | null = null;
  #leader = false;
  #closed = false;
  #checking = false;
  #recheck = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #removeHook: () => void = () => {};
  readonly #onState = (state: ZkSessionState, previous: ZkSessionState, why: string): void => {
    if (state === 'suspended') this.#demote(`ZooKeeper unreachable, session suspended (${why})`);
    if (state === 'expired') {
      this.#demote(`ZooKeeper session expired (${why})`);
      this.#candidate = null; // gone with the session; the renewal hook enters again
    }
    // The same session is back: our candidate survived, so we may lead again.
    if (state === 'connected' && previous === 'suspended') this.#schedule();
  };

  /** Not a candidate yet (never leads, `fence()` refuses) until `join()`. */
  constructor(options: LeaderElectionOptions) {
    super();
    this.#session = options.session;
    this.#log = options.logger;
    this.#pod = options.pod;
    this.#base = options.basePath ?? '/election';
  }

  /** A joined election (see `join()`). */
  static async create(options: LeaderElectionOptions): Promise<LeaderElection> {
    const election = new LeaderElection(options);
    await election.join();
    return election;
  }

  /**
   * Enters the election; resolves once our candidate exists and the first check has run (a
   * listener of `elected` already heard it if we lead). Closes the election if entering fails.
   */
  async join(): Promise<void> {
    if (this.#closed) return;
    this.#session.on('state', this.#onState);
    this.#removeHook = this.#session.onSessionRenewed(() => this.#enterAndCheck());
    try {
      await this.#enterAndCheck();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Our candidate node, or null between a session expiry and re-entering. */
  get candidatePath(): string | null {
    return this.#candidate;
  }

  /**
   * A check op for a master's multi-op writes: the commit fails unless our candidate still
   * exists, i.e. unless our session (and so our leadership) is still alive at commit time.
   */
  fence(): ZkOp {
    if (!this.#leader || !this.#candidate) {
      throw new HisteqError('NOT_MASTER', `${this.#pod} is not the leader`);
    }
    return { op: 'check', path: this.#candidate, version: 0 };
  }

  /** Who leads now, by the lowest candidate; null if there are no candidates. */
  async currentLeader(): Promise<(CandidateInfo & { path: string }) | null> {
    for (const name of sortCandidates(await this.#session.getChildren(this.#base))) {
      const path = `${this.#base}/${name}`;
      const found = await unlessMissing(this.#session.getData(path), null);
      if (!found) continue; // gone meanwhile: the next one leads
      return { ...(JSON.parse(found.data.toString('utf8')) as CandidateInfo), path };
    }
    return null;
  }

  /** Steps down and removes our candidate, so the next pod takes over at once. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#session.off('state', this.#onState);
    this.#removeHook();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#demote('election closed');
    const candidate = this.#candidate;
    this.#candidate = null;
    if (candidate) await this.#removeQuietly(candidate);
  }

  async #enterAndCheck(): Promise<void> {
    if (this.#closed) return;
    await this.#enter();
    await this.#check();
  }

  /** Creates our candidate, unless one of ours from this session already exists. */
  async #enter(): Promise<void> {
    await this.#session.ensurePath(this.#base);
    const data = JSON.stringify({
      pod: this.#pod,
      token: this.#token,
      since: new Date().toISOString(),
    });
    let path: string | null = null;
    try {
      path = await this.#session.create(
        `${this.#base}/n_${this.#token}_`,
        data,
        'ephemeral_sequential',
      );
    } catch (err) {
      if (!isAmbiguous(err)) throw err;
      // The create may have happened: look before creating a second candidate.
      path = await this.#findOwn();
      if (!path) throw err;
    }
    if (this.#closed) {
      await this.#removeQuietly(path);
      return;
    }
    this.#candidate = path;
    this.#log.info({ candidate: path }, 'election: candidate created');
  }

  async #findOwn(): Promise<string | null> {
    for (const name of await this.#session.getChildren(this.#base)) {
      if (CANDIDATE.exec(name)?.[1] !== this.#token) continue;
      const stat = await this.#session.exists(`${this.#base}/${name}`);
      if (stat && this.#session.ownership(stat) === 'current') return `${this.#base}/${name}`;
    }
    return null;
  }

  /** Runs #check now or after the running one; checks never overlap. */
  #schedule(): void {
    if (this.#closed) return;
    if (this.#checking) {
      this.#recheck = true;
      return;
    }
    this.#check().catch((err: unknown) => {
      if (this.#closed) return;
      this.#log.warn({ err }, 'election check failed; retrying');
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = null;
        if (this.#session.state === 'connected') this.#schedule();
      }, 250);
    });
  }

  async #check(): Promise<void> {
    if (this.#checking) {
      this.#recheck = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#recheck = false;
        await this.#checkOnce();
      } while (this.#recheck && !this.#closed);
    } finally {
      this.#checking = false;
    }
  }

  async #checkOnce(): Promise<void> {
    const own = this.#candidate;
    if (this.#closed || !own) return;
    const ownName = own.slice(this.#base.length + 1);
    const names = sortCandidates(await this.#session.getChildren(this.#base));
    // Our other candidates (a lost create's answer, an expired session's) would block the line.
    const orphans = names.filter((n) => n !== ownName && CANDIDATE.exec(n)?.[1] === this.#token);
    for (const orphan of orphans) await this.#removeQuietly(`${this.#base}/${orphan}`);
    const line = names.filter((n) => !orphans.includes(n));
    const index = line.indexOf(ownName);
    if (index < 0) {
      // Someone deleted our candidate while our session lives: start over.
      this.#demote('candidate removed');
      this.#candidate = null;
      await this.#enter();
      this.#recheck = true;
      return;
    }
    if (index === 0) {
      // Watch our own node so an outside deletion is noticed.
      const stat = await this.#session.exists(own, () => this.#schedule());
      if (stat === null) {
        this.#recheck = true;
        return;
      }
      if (this.#session.state === 'connected' && this.#candidate === own) this.#elect();
      return;
    }
    this.#demote('a lower candidate exists');
    const predecessor = `${this.#base}/${line[index - 1]}`;
    // Only our predecessor: when it goes, only we wake up (no herd).
    if ((await this.#session.exists(predecessor, () => this.#schedule())) === null) {
      this.#recheck = true;
    }
  }

  #elect(): void {
    if (this.#leader || this.#closed) return;
    this.#leader = true;
    this.#log.info({ candidate: this.#candidate }, 'election: elected leader');
    this.emit('elected');
  }

  #demote(reason: string): void {
    if (!this.#leader) return;
    this.#leader = false;
    this.#log.warn({ reason }, 'election: demoted');
    this.emit('demoted', reason);
  }

  async #removeQuietly(path: string): Promise<void> {
    try {
      await this.#session.remove(path);
    } catch (err) {
      if (!isZkError(err, 'NO_NODE')) this.#log.debug({ err, path }, 'election: could not remove');
    }
  }
}

/** Candidate names by sequence number, lowest first; anything else in the folder is ignored. */
export function sortCandidates(names: string[]): string[] {
  return names
    .filter((n) => CANDIDATE.test(n))
    .sort((a, b) => a.slice(-10).localeCompare(b.slice(-10)));
}
