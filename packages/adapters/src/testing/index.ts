export {
  type ConformanceHooks,
  type ConformanceOptions,
  type HostClientFixture,
  runStoreConformance,
  type StructureHooks,
} from './conformance.js';
export { type KillReport, recordWhileKilling } from './faults.js';
export { conformancePreset, DAY, HOUR, MINUTE, NOW, seeded } from './fixtures.js';
export { kyselyTamperer, type Tamperer } from './integrity-tamper.js';
export { blockReads, type LockingEngine, runningReads } from './read-blockers.js';
export { runSearchConformance } from './search-suite.js';
export { requireServer, type ServerKind } from './servers.js';
export { countRollupAnswers, holdInserts } from './store-probes.js';
export type { ChildStoreSpec, IntegrityHooks, IntegritySuiteOptions } from './suites/integrity.js';
