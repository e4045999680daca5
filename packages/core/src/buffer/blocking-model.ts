/**
 * How long an insert of `n` rows holds the event loop, as `fixed + perRow × n`, fitted to the recent
 * inserts (each weighs less as newer ones arrive). The fixed part matters: an SQLite transaction
 * costs about as much to commit whether it wrote 500 rows or 1,000 (it rewrites the touched index
 * pages), so a cost per row taken from small batches overstates large ones, and a buffer that
 * shrank its batches once would keep them small for good. The fixed part is learned only from
 * inserts of clearly different sizes, and until then counts as 0, which overstates large batches:
 * the safe side. @internal
 */
export class BlockingModel {
  /** Weight kept by the earlier inserts at each new one. */
  private static readonly DECAY = 0.85;
  private weight = 0;
  private sumRows = 0;
  private sumMs = 0;
  private sumRows2 = 0;
  private sumRowsMs = 0;
  private fixedMs = 0;

  /** Whether inserts of different enough sizes were seen to tell the fixed cost from the cost per row. */
  knowsFixedCost = false;

  /** Whether any insert was observed. */
  get measured(): boolean {
    return this.weight > 0;
  }

  observe(rows: number, ms: number): void {
    const d = BlockingModel.DECAY;
    this.weight = this.weight * d + 1;
    this.sumRows = this.sumRows * d + rows;
    this.sumMs = this.sumMs * d + ms;
    this.sumRows2 = this.sumRows2 * d + rows * rows;
    this.sumRowsMs = this.sumRowsMs * d + rows * ms;
    const meanRows = this.sumRows / this.weight;
    const meanMs = this.sumMs / this.weight;
    const variance = this.sumRows2 / this.weight - meanRows * meanRows;
    // Sizes spread by at least a fifth of their mean: enough to tell the fixed part from the rest.
    if (variance > (0.2 * meanRows) ** 2) {
      const perRow = (this.sumRowsMs / this.weight - meanRows * meanMs) / variance;
      const fixed = meanMs - perRow * meanRows;
      if (perRow > 0 && fixed >= 0) {
        this.fixedMs = Math.min(fixed, meanMs);
        this.knowsFixedCost = true;
      }
    }
    if (this.fixedMs > meanMs) this.fixedMs = meanMs;
  }

  /** The most rows one insert may hold and stay within `budgetMs`; `Infinity` for stores that do not block. */
  rowsWithin(budgetMs: number): number {
    if (this.weight === 0) return Number.POSITIVE_INFINITY;
    const meanRows = this.sumRows / this.weight;
    const meanMs = this.sumMs / this.weight;
    const perRow = (meanMs - this.fixedMs) / meanRows;
    if (perRow < 1e-6) return Number.POSITIVE_INFINITY;
    return Math.floor((budgetMs - this.fixedMs) / perRow);
  }
}
