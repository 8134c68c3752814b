import { createHash } from 'node:crypto';
import type { ACL } from 'node-zookeeper-client';

/**
 * The id ZooKeeper stores for a digest identity (`user:base64(sha1(user:password))`): what an
 * `auth` ACL entry becomes on the server, so what every node we create carries under ZK_AUTH.
 */
export function digestId(auth: string): string {
  const user = auth.slice(0, auth.indexOf(':'));
  return `${user}:${createHash('sha1').update(auth, 'utf8').digest('base64')}`;
}

/**
 * True when only our digest identity has any permission on the node. Anything else — world
 * (the default of a node someone made without an ACL), ip, or another identity — is open to
 * someone who is not one of our pods.
 */
export function onlyOurs(acls: readonly ACL[], ourId: string): boolean {
  return acls.length > 0 && acls.every((acl) => acl.id.scheme === 'digest' && acl.id.id === ourId);
}

/** One line per entry for logs and refusals, e.g. `world:anyone=31` (31: every permission). */
export function describeAcl(acls: readonly ACL[]): string {
  // The library's objects carry `permission`; its published types call it `perms`.
  const perms = (acl: ACL) => (acl as unknown as { permission?: number }).permission ?? acl.perms;
  return acls.map((acl) => `${acl.id.scheme}:${acl.id.id}=${perms(acl)}`).join(', ');
}
