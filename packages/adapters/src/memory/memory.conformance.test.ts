import { runStoreConformance } from '../testing/index.js';
import { createMemoryStore } from './memory-store.js';

runStoreConformance({ name: 'memory', createStore: () => createMemoryStore() });
