import { readFileSync } from 'node:fs';

/** The program version from package.json, published in `/nodes/<pod>`. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
