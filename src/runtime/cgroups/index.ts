export { cgroupPathsFor, detectCgroups, ensureRuntimeCanRun, removeCgroup } from './host.ts';
export type { CgroupLayout, EnsureRuntimeOptions } from './host.ts';
export { parseMemoryEvents, parseOomControl, readOomKilled } from './oom.ts';
export type { OomState } from './oom.ts';
export { clearPidsLimit } from './pids.ts';
export { parseBlkioV1, parseIoStatV2, parseKeyValues, readCgroupStats, statsFromV1, statsFromV2 } from './stats.ts';
export type { CgroupStats } from './stats.ts';
export { blkioWeightToIoWeight, cgroupV1Files, cgroupV2Files, sharesToWeight } from './v2-translate.ts';
