import { existsSync } from 'node:fs';
import { HisteqError } from '../common/errors.js';

/** Where Debian's `zookeeper` package (via libzookeeper-java) puts the server jar. */
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
/**
 * The Debian jar's manifest Class-Path pulls in its dependencies, but slf4j has no binding
 * there, so the server would log nothing at all. slf4j-simple sends its log to stderr, which
 * we keep so a failed start can say why.
 */
const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';

export const ZOOKEEPER_MISSING_MESSAGE =
  `ZooKeeper server jars not found at ${ZOOKEEPER_JAR}: ` +
  "install Debian's zookeeper package: apt-get install zookeeper";

/** True when Debian's ZooKeeper server jars are installed. */
export function zookeeperJarsAvailable(): boolean {
  return existsSync(ZOOKEEPER_JAR);
}

export function zookeeperClasspath(): string {
  if (!zookeeperJarsAvailable()) throw new HisteqError('BAD_CONFIG', ZOOKEEPER_MISSING_MESSAGE);
  return [ZOOKEEPER_JAR, ...(existsSync(SLF4J_SIMPLE_JAR) ? [SLF4J_SIMPLE_JAR] : [])].join(':');
}
