import { hash } from 'node:crypto';

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/**
 * Merkle root (hex) over hex leaf hashes, with domain-separated leaves (`0x00 ‖ leaf`) and nodes
 * (`0x01 ‖ left ‖ right`); an odd node is carried up unchanged. The root of no leaves is the
 * SHA-256 of nothing. @internal
 */
export function merkleRoot(leaves: readonly string[]): string {
  if (leaves.length === 0) return hash('sha256', '', 'hex');
  // One-shot hashing: a Hash object per node costs more than the hashing itself.
  const digest = (data: Buffer) => hash('sha256', data, 'buffer') as unknown as Buffer;
  let level: Buffer[] = leaves.map((leaf) => digest(Buffer.concat([LEAF, Buffer.from(leaf, 'hex')])));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Buffer;
      const right = level[i + 1];
      next.push(right ? digest(Buffer.concat([NODE, left, right])) : left);
    }
    level = next;
  }
  return (level[0] as Buffer).toString('hex');
}
