export { type ConformanceOptions, runStoreConformance } from './conformance.js';
export { conformancePreset, DAY, HOUR, MINUTE, NOW, seeded } from './fixtures.js';
export { runSearchConformance } from './search-suite.js';
export { requireServer, type ServerKind } from './servers.js';
