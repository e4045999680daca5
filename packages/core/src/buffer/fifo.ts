/**
 * A first-in, first-out queue with O(1) `push` and `shift` at any length.
 *
 * `Array.prototype.shift` moves every remaining element once an array is too large for V8 to trim
 * it in place, so a queue of millions of waiting writes drained with `shift()` costs quadratic
 * time. This one advances a head index and compacts the backing array only when the consumed
 * prefix outweighs what is left, which keeps each operation amortised O(1).
 * @internal
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Items in the queue. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds an item at the tail. */
  push(item: T): void {
    this.items.push(item);
  }

  /** The item at the head, without removing it. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Removes and returns the item at the head. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let the item be collected while the slot waits for compaction
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns every item, head first. */
  drain(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }
}
