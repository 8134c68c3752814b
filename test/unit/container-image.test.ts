import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/paths.js';

/**
 * The Dockerfile and .dockerignore, checked as text: no Docker engine runs here, so the
 * policy the image must follow (multi-stage, lockfile installs, production dependencies only,
 * non-root, node as PID 1, the CLI on the PATH) is asserted on the instructions themselves.
 */
interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Joins continuation lines, drops comments and blank lines, splits keyword from arguments. */
function parseDockerfile(text: string): Instruction[] {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(l)!;
      return { keyword: keyword!.toUpperCase(), args: args!.replace(/\s+/g, ' ') };
    });
}

/** Splits into stages, resolving `${ARG}` in FROM from the global ARG defaults. */
function stagesOf(instructions: Instruction[]): Stage[] {
  const globals = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args.split(' ');
      const resolved = image!.replace(/\$\{?(\w+)\}?/g, (_m, v: string) => globals.get(v) ?? '');
      stages.push({
        image: resolved,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
    } else if (stages.length === 0 && ins.keyword === 'ARG') {
      const [key, value] = ins.args.split('=');
      globals.set(key!, value ?? '');
    } else stages.at(-1)?.instructions.push(ins);
  }
  return stages;
}

/** .dockerignore patterns as regexes (no negations: the test asserts there are none). */
function ignoreMatchers(text: string): RegExp[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => {
      assert.ok(!p.startsWith('!'), `no negated pattern (${p})`);
      const body = p
        .replace(/^\/+|\/+$/g, '')
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*');
      // A pattern excludes the path itself and everything under it.
      return new RegExp(`^${body}(/.*)?$`);
    });
}

let stages: Stage[];
let final: Stage;
let ignored: (file: string) => boolean;

before(async () => {
  stages = stagesOf(parseDockerfile(await readFile(path.join(REPO_ROOT, 'Dockerfile'), 'utf8')));
  final = stages.at(-1)!;
  const matchers = ignoreMatchers(await readFile(path.join(REPO_ROOT, '.dockerignore'), 'utf8'));
  ignored = (file) => matchers.some((m) => m.test(file));
});

const args = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('Dockerfile', () => {
  it('is multi-stage on a slim Debian image of a supported Node LTS (22 or 24)', () => {
    assert.ok(stages.length >= 2, `${stages.length} stages`);
    for (const s of stages) {
      assert.match(s.image, /^node:(22|24)(\.\d+)*-(bookworm|trixie)-slim$/, s.image);
      assert.ok(s.name, `stage ${s.image} is named`);
    }
  });

  it('installs from the lockfile and builds with the dev toolchain in a build stage', () => {
    const build = stages.find((s) => args(s, 'RUN').some((r) => /\btsc\b/.test(r)));
    assert.ok(build && build !== final, 'TypeScript compiles outside the runtime stage');
    assert.ok(args(build, 'RUN').some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r)));
    for (const s of stages) {
      for (const r of args(s, 'RUN')) assert.doesNotMatch(r, /\bnpm (install|i)\b/, 'npm ci only');
    }
  });

  it('ships production dependencies only, and no sources or compiler', () => {
    const copies = args(final, 'COPY');
    const modules = copies.find((c) => /node_modules/.test(c));
    assert.ok(modules, 'node_modules comes from a stage');
    const from = /--from=(\S+)/.exec(modules)?.[1];
    const deps = stages.find((s) => s.name === from);
    assert.ok(deps, `stage ${from}`);
    assert.ok(args(deps, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r)));
    assert.ok(
      copies.some((c) => /--from=\S+ \S*dist\/src\b/.test(c)),
      'compiled code copied',
    );
    for (const c of copies) assert.doesNotMatch(c, /(^| )(src|tsconfig\.json|test)( |$)/, c);
    assert.equal(args(final, 'RUN').filter((r) => /\bnpm (ci|install)\b/.test(r)).length, 0);
  });

  it('has the system library the pool threads load: libdeflate0, apt lists removed', () => {
    const run = args(final, 'RUN').find((r) => /\bapt-get install\b/.test(r));
    assert.ok(run, 'the runtime stage installs Debian packages');
    assert.match(run, /\blibdeflate0\b/);
    assert.match(run, /--no-install-recommends/);
    assert.match(run, /rm -rf \/var\/lib\/apt\/lists/);
  });

  it('runs as the non-root node user, with node as PID 1 (or tini)', () => {
    const user = args(final, 'USER').at(-1);
    assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`);
    const cmd = args(final, 'CMD').at(-1);
    const entrypoint = args(final, 'ENTRYPOINT').at(-1);
    if (entrypoint) {
      assert.match(entrypoint, /tini/, 'an ENTRYPOINT may only be an init such as tini');
    } else {
      // Exec form: a shell form would make /bin/sh PID 1, which does not forward SIGTERM.
      assert.deepEqual(JSON.parse(cmd!), ['node', 'dist/src/main.js']);
    }
  });

  it('puts `histeq` (the CLI and its demos) on the PATH', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    assert.equal(pkg.bin.histeq, 'dist/src/cli/main.js');
    const link = args(final, 'RUN').find((r) => /ln -s/.test(r));
    assert.match(link ?? '', /ln -s \/app\/dist\/src\/cli\/main\.js \/usr\/local\/bin\/histeq/);
    assert.equal(args(final, 'WORKDIR').at(-1), '/app');
    // Executable only with its shebang and mode (set in the build stage).
    const source = await readFile(path.join(REPO_ROOT, 'src/cli/main.ts'), 'utf8');
    assert.ok(source.startsWith('#!/usr/bin/env node\n'));
    assert.ok(
      stages.some((s) => args(s, 'RUN').some((r) => /chmod \S+ dist\/src\/cli\/main\.js/.test(r))),
    );
  });

  it('the CLI runs through a symlink like /usr/local/bin/histeq', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'histeq-bin-'));
    try {
      const bin = path.join(dir, 'histeq');
      await symlink(path.join(REPO_ROOT, 'dist/src/cli/main.js'), bin);
      // Node resolves the link, so the CLI's relative imports load from dist/src.
      const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help'], {
        timeout: 30_000,
      });
      assert.match(stdout, /Usage: histeq/);
      assert.match(stdout, /equalize/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('defaults SHARED_DIR to /shared and exposes the port the manifests probe', () => {
    const env = args(final, 'ENV').join(' ');
    assert.match(env, /SHARED_DIR=\/shared\b/);
    assert.match(env, /TMPDIR=\/tmp\b/);
    assert.deepEqual(args(final, 'EXPOSE'), ['8080']);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    for (const s of stages) {
      for (const c of args(s, 'COPY').filter((c) => !c.includes('--from='))) {
        const parts = c.split(' ').filter((p) => !p.startsWith('--'));
        for (const source of parts.slice(0, -1)) {
          assert.ok(existsSync(path.join(REPO_ROOT, source)), `${source} exists`);
          assert.ok(!ignored(source), `${source} is not excluded by .dockerignore`);
        }
      }
    }
  });
});

describe('.dockerignore', () => {
  it('keeps local state and secrets out of the build context', () => {
    for (const p of ['node_modules', 'node_modules/sharp/package.json', '.git', '.git/HEAD']) {
      assert.ok(ignored(p), `${p} excluded`);
    }
    for (const p of ['dist', 'test-output', '.env', 'k8s/app.yaml', 'debug.log']) {
      assert.ok(ignored(p), `${p} excluded`);
    }
    for (const p of ['package.json', 'package-lock.json', 'src/main.ts', 'public/index.html']) {
      assert.ok(!ignored(p), `${p} kept`);
    }
  });
});
