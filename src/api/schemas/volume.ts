import { type Schema, any, str, stringMap, struct } from '../body-schema.ts';

/** POST /volumes/create (volume.CreateOptions, API 1.47). */
export const volumeCreateSchema = (): Schema => struct({
  Name: str(),
  Driver: str(),
  DriverOpts: stringMap(),
  Labels: stringMap(),
  ClusterVolumeSpec: any(),
});
