import { runStoreConformance } from '../testing/index.js';
import { createMemoryStore } from './memory-store.js';

runStoreConformance({
  name: 'memory',
  createStore: () => createMemoryStore(),
  hookGaps: {
    openSecondStore:
      'the data lives in one store object: there is no second connection to the same tables (capabilities say so: crossProcessLock is false)',
    hostClient: 'the store owns no client a host could pass in',
    structure: 'there are no indexes or table definitions to damage: every read scans the rows',
    killConnections: 'there are no connections to kill',
    childStore: 'the data lives in this process: another process cannot open it',
  },
  integrity: {
    gap: 'the reference store keeps its rows in one process and offers no cross-process exclusion to append a chain under; tamper evidence is for the SQL stores',
  },
});
