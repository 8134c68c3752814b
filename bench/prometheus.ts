/** Reads one sample from Prometheus text, e.g. value(text, 'histeq_leader'), optionally by a label. */
export function metricValue(text: string, name: string, label?: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (label && !rest.includes(label)) continue;
    const value = Number(line.split(' ').pop());
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}

/** Sums every sample of a metric (all label combinations). */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      const value = Number(line.split(' ').pop());
      if (Number.isFinite(value)) sum += value;
    }
  }
  return sum;
}
