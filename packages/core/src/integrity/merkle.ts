import { hash } from 'node:crypto';

/**
 * Merkle root (hex) over hex leaf hashes, with domain-separated leaves (`0x00 ‖ leaf`) and nodes
 * (`0x01 ‖ left ‖ right`); an odd node is carried up unchanged. The root of no leaves is the
 * SHA-256 of nothing. @internal
 */
export function merkleRoot(leaves: readonly string[]): string {
  if (leaves.length === 0) return hash('sha256', '', 'hex');
  // One-shot hashing over one scratch buffer: a Hash object or a concatenated Buffer per node costs
  // more than the hashing itself.
  const digest = (data: Buffer) => hash('sha256', data, 'buffer') as unknown as Buffer;
  const scratch = Buffer.alloc(65);
  let level: Buffer[] = leaves.map((leaf) => {
    scratch[0] = 0;
    const n = scratch.write(leaf, 1, 'hex');
    return digest(scratch.subarray(0, 1 + n));
  });
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Buffer;
      const right = level[i + 1];
      if (!right) {
        next.push(left);
        continue;
      }
      scratch[0] = 1;
      left.copy(scratch, 1);
      right.copy(scratch, 33);
      next.push(digest(scratch));
    }
    level = next;
  }
  return (level[0] as Buffer).toString('hex');
}
