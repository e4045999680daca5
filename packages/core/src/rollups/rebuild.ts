import type { LogCore } from '../core.js';
import { EventLogError } from '../errors.js';
import type { RebuildRollupsOptions } from '../types.js';

/** `log.rebuildRollups()`: recomputes the store's rollup tables from the events. @internal */
export function createRebuildRollups(core: LogCore) {
  return async function rebuildRollups(options: RebuildRollupsOptions = {}): Promise<void> {
    core.assertOpen();
    const rebuild = core.store.rebuildRollups;
    if (!rebuild) {
      throw new EventLogError('UNSUPPORTED', `The ${core.store.engine} store keeps no rollups, so there is nothing to rebuild.`);
    }
    await core.ready();
    await core.buffer.flush();
    const onProgress = options.onProgress;
    await core.guard('rebuildRollups', () => rebuild.call(core.store, onProgress ? { onProgress } : {}));
  };
}
