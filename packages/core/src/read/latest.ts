import { z } from 'zod';
import { type LogCore, parseInput, type Scope } from '../core.js';
import { type FilterInput, isEmptySelection } from '../filter/filter.js';
import { rowToEvent, type StoredEvent } from '../schema/event.js';
import type { LatestInput, ReadOptions } from '../types.js';
import { guardRead, signalOf } from './abort.js';

const schema = z.object(
  {
    type: z.union([z.string(), z.array(z.string())], 'must be a type name or a list of them').optional(),
    target: z
      .object(
        { type: z.string('must be a string').optional(), id: z.union([z.string(), z.number()], 'must be a string or a number') },
        'must be { type?, id }',
      )
      .optional(),
    filter: z.record(z.string(), z.unknown(), 'must be a filter object').optional(),
  },
  'must be an object',
);

/** The newest event of a target over a scope; unmasked (the view masks). @internal */
export function createLatestRead(core: LogCore) {
  return async function latest(scope: Scope, input: LatestInput, options?: ReadOptions): Promise<StoredEvent | null> {
    core.assertOpen();
    const parsed = parseInput(schema, input ?? {});
    const signal = signalOf(options);
    const filter: Record<string, unknown> = { ...parsed.filter };
    if (parsed.type !== undefined) filter.type = parsed.type;
    if (parsed.target) {
      filter.targetId = String(parsed.target.id);
      if (parsed.target.type !== undefined) filter.targetType = parsed.target.type;
    }
    const where = core.conditions(scope, filter as FilterInput);
    await core.ready();
    if (isEmptySelection(where)) return null;
    const [row] = await guardRead(core, 'find', signal, () =>
      core.store.find({ where, orderBy: { column: 'time', direction: 'desc' }, limit: 1, signal }),
    );
    return row ? rowToEvent(row, core.registry) : null;
  };
}
