export { env, envInt } from './env.js';
export { ascendingTimes, createRandom, type Random } from './random.js';
export {
  type ExampleModule,
  type LiveContext,
  main,
  type RunExampleOptions,
  type RunningExample,
  recordInChunks,
  runExample,
  type SeedContext,
  shellQuote,
} from './run.js';
export { seedModules } from './seed.js';
export { type OpenedStore, openStore } from './store.js';
export { VIEWER_PATH, viewerAuthenticate, viewerBanner, viewerSecret } from './viewer.js';
