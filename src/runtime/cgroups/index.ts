export { cgroupPathsFor, detectCgroups, ensureRuntimeCanRun, removeCgroup } from './host.ts';
export type { CgroupLayout, EnsureRuntimeOptions } from './host.ts';
export { parseMemoryEvents, parseOomControl, readOomKilled } from './oom.ts';
export type { OomState } from './oom.ts';
